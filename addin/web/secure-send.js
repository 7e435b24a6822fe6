// Marks the compose item as secure and, where Outlook allows it, sends it.
import { callAsync } from './office-async.js';
import { buildSecureHeaders } from './headers.js';
import { withSubjectKeyword } from './subject.js';

/** What the running Outlook can do; decided once per pane from the requirement sets. */
export function capabilities(office) {
  const requirements = office?.context?.requirements;
  const item = office?.context?.mailbox?.item;
  const supported = (version) => Boolean(requirements && requirements.isSetSupported('Mailbox', version));
  return {
    // Mailbox 1.8: item.internetHeaders in compose mode.
    internetHeaders: supported('1.8') && Boolean(item?.internetHeaders),
    // Mailbox 1.15: item.sendAsync.
    send: supported('1.15') && typeof item?.sendAsync === 'function',
  };
}

/**
 * entries: [{ address, phone }] for the external recipients (phones in E.164).
 * Returns { mode: 'headers' | 'subject', sent, headers?, subject? }.
 * Throws HeaderValueError before touching the item when a value is unsafe, and
 * OfficeCallError (with `stage` 'flag' or 'send') when Outlook reports a failure.
 */
export async function markSecureAndSend(office, { entries = [], subjectKeyword = '[secure]', onProgress = () => {} } = {}) {
  const item = office.context.mailbox.item;
  const can = capabilities(office);
  const result = { mode: can.internetHeaders ? 'headers' : 'subject', sent: false };

  onProgress('working');
  try {
    if (can.internetHeaders) {
      result.headers = buildSecureHeaders(entries);
      await callAsync('internetHeaders.setAsync', (done) => item.internetHeaders.setAsync(result.headers, done));
    } else {
      const current = await callAsync('subject.getAsync', (done) => item.subject.getAsync(done));
      result.subject = withSubjectKeyword(current, subjectKeyword);
      if (result.subject !== current) {
        await callAsync('subject.setAsync', (done) => item.subject.setAsync(result.subject, done));
      }
    }
  } catch (error) {
    error.stage = 'flag';
    throw error;
  }
  onProgress('flagged', result);

  if (can.send) {
    onProgress('sending');
    try {
      await callAsync('sendAsync', (done) => item.sendAsync(done));
    } catch (error) {
      error.stage = 'send';
      error.result = result;
      throw error;
    }
    result.sent = true;
  }
  return result;
}
