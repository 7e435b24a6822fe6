// Marks the compose item as secure (or removes the mark) and, where Outlook allows it, sends it.
import { callAsync } from './office-async.js';
import { buildSecureHeaders, FLAG_HEADER, FLAG_VALUE, PHONE_HEADER, SEALED_HEADER } from './headers.js';
import { withSubjectKeyword, withoutSubjectKeyword } from './subject.js';

/** Per-item session data (Mailbox 1.11, never sent): the recipients the mark was made for, for the on-send check. */
export const MARKED_FOR_KEY = 'securemailbox.markedFor';

/**
 * What the running Outlook can do with `item`, from the requirement sets. An object being present is
 * not enough: Outlook may expose members of sets it does not support.
 */
export function capabilities(office, item = office?.context?.mailbox?.item) {
  const requirements = office?.context?.requirements;
  const supported = (set, version) => Boolean(requirements && typeof requirements.isSetSupported === 'function'
    && requirements.isSetSupported(set, version));
  const mailbox = (version) => supported('Mailbox', version);
  return {
    item: Boolean(item),
    // Mailbox 1.5: Office.context.mailbox.addHandlerAsync(ItemChanged) for a pinned pane.
    itemChanged: mailbox('1.5') && typeof office?.context?.mailbox?.addHandlerAsync === 'function',
    // Mailbox 1.7: item.addHandlerAsync(RecipientsChanged).
    recipientsChanged: mailbox('1.7') && typeof item?.addHandlerAsync === 'function',
    // Mailbox 1.8: item.internetHeaders (getAsync, setAsync, removeAsync) in compose mode.
    internetHeaders: mailbox('1.8') && Boolean(item?.internetHeaders),
    // Mailbox 1.11: item.sessionData.
    sessionData: mailbox('1.11') && Boolean(item?.sessionData),
    // Mailbox 1.15: item.sendAsync.
    send: mailbox('1.15') && typeof item?.sendAsync === 'function',
    // Nested app authentication (MSAL.js createNestablePublicClientApplication).
    nestedAppAuth: supported('NestedAppAuth', '1.1'),
  };
}

/** The recipients' keys in a stable order: what a mark is made for. */
export const recipientKeys = (recipients) => [...new Set(recipients.map((r) => r.key))].sort().join('\n');

/** Whether the item carries the mark: the flag header (Mailbox 1.8), else the subject keyword. */
export async function readMark(item, can, subjectKeyword) {
  if (can.internetHeaders) {
    const headers = await callAsync('internetHeaders.getAsync', (done) => item.internetHeaders.getAsync([FLAG_HEADER], done));
    return String(headers?.[FLAG_HEADER] ?? '').trim().toLowerCase() === FLAG_VALUE;
  }
  const subject = await callAsync('subject.getAsync', (done) => item.subject.getAsync(done));
  return String(subject ?? '').toLowerCase().includes(subjectKeyword.toLowerCase());
}

/**
 * Marks the item. entries: [{ address, phone }] for the external recipients (E.164); seal(list) turns
 * the phone list into the sealed header value; keys: recipientKeys() of what the mark is for.
 * Returns { mode: 'headers' | 'subject', headers?, subject? }. Throws HeaderValueError or SealError before
 * touching the item when a value is unusable, and OfficeCallError when Outlook reports a failure.
 */
export async function markSecure(item, can, { entries = [], seal, subjectKeyword, keys = '' }) {
  if (!can.internetHeaders) {
    const current = await callAsync('subject.getAsync', (done) => item.subject.getAsync(done));
    const subject = withSubjectKeyword(current, subjectKeyword);
    if (subject !== current) await callAsync('subject.setAsync', (done) => item.subject.setAsync(subject, done));
    return { mode: 'subject', subject };
  }
  const headers = await buildSecureHeaders(entries, seal);
  await callAsync('internetHeaders.setAsync', (done) => item.internetHeaders.setAsync(headers, done));
  if (!(SEALED_HEADER in headers)) {
    // No external recipients (any more): a list sealed for earlier recipients must not stay behind.
    await callAsync('internetHeaders.removeAsync', (done) => item.internetHeaders.removeAsync([SEALED_HEADER, PHONE_HEADER], done));
  }
  if (can.sessionData) {
    try {
      await callAsync('sessionData.setAsync', (done) => item.sessionData.setAsync(MARKED_FOR_KEY, keys, done));
    } catch {
      // Only the on-send check reads it, and it lets a message without it through.
    }
  }
  return { mode: 'headers', headers };
}

/** Removes the mark: the headers (Mailbox 1.8), else the subject keyword. */
export async function unmark(item, can, { subjectKeyword }) {
  if (!can.internetHeaders) {
    const current = await callAsync('subject.getAsync', (done) => item.subject.getAsync(done));
    const subject = withoutSubjectKeyword(current, subjectKeyword);
    if (subject !== current) await callAsync('subject.setAsync', (done) => item.subject.setAsync(subject, done));
    return;
  }
  await callAsync('internetHeaders.removeAsync',
    (done) => item.internetHeaders.removeAsync([FLAG_HEADER, SEALED_HEADER, PHONE_HEADER], done));
  if (can.sessionData) {
    try {
      await callAsync('sessionData.removeAsync', (done) => item.sessionData.removeAsync(MARKED_FOR_KEY, done));
    } catch {
      // Nothing to remove.
    }
  }
}

/** Sends the item (Mailbox 1.15). */
export function sendItem(item) {
  return callAsync('sendAsync', (done) => item.sendAsync(done));
}
