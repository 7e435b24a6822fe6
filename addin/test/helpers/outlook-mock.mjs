// An Outlook compose item built with office-addin-mock, recording what the add-in sets.
import { OfficeMockObject } from 'office-addin-mock';

const versionParts = (v) => String(v).split('.').map(Number);
export function versionAtMost(wanted, available) {
  const [a1, a2 = 0] = versionParts(wanted);
  const [b1, b2 = 0] = versionParts(available);
  return a1 < b1 || (a1 === b1 && a2 <= b2);
}

/**
 * options: to/cc/bcc ([{ emailAddress, displayName }]), mailboxVersion (highest supported
 * Mailbox requirement set, default '1.8'), subject, headersError / subjectError / sendError
 * ({ code, message } returned as a failed AsyncResult), displayLanguage.
 */
export function outlookMock(options = {}) {
  const {
    to = [], cc = [], bcc = [], mailboxVersion = '1.8', subject = '',
    headersError, subjectError, sendError, displayLanguage = 'en-US',
  } = options;
  const calls = { headers: [], subjects: [], sends: 0, order: [] };
  let currentSubject = subject;
  const succeeded = (value) => ({ status: 'succeeded', value });
  const failed = (error) => ({ status: 'failed', error });
  const callbackOf = (args) => args[args.length - 1];
  const recipients = (field, list) => ({
    getAsync(...args) {
      calls.order.push(`${field}.getAsync`);
      callbackOf(args)(succeeded(list.map((r) => ({ recipientType: 'externalUser', ...r }))));
    },
  });

  const item = {
    itemType: 'message',
    to: recipients('to', to),
    cc: recipients('cc', cc),
    bcc: recipients('bcc', bcc),
    subject: {
      getAsync(...args) {
        calls.order.push('subject.getAsync');
        callbackOf(args)(succeeded(currentSubject));
      },
      setAsync(value, ...args) {
        calls.order.push('subject.setAsync');
        if (subjectError) return callbackOf(args)(failed(subjectError));
        currentSubject = value;
        calls.subjects.push(value);
        return callbackOf(args)(succeeded());
      },
    },
  };
  if (versionAtMost('1.8', mailboxVersion)) {
    item.internetHeaders = {
      setAsync(headers, ...args) {
        calls.order.push('internetHeaders.setAsync');
        if (headersError) return callbackOf(args)(failed(headersError));
        calls.headers.push({ ...headers });
        return callbackOf(args)(succeeded());
      },
    };
  }
  if (versionAtMost('1.15', mailboxVersion)) {
    item.sendAsync = (...args) => {
      calls.order.push('sendAsync');
      if (sendError) return callbackOf(args)(failed(sendError));
      calls.sends++;
      return callbackOf(args)(succeeded());
    };
  }

  const office = new OfficeMockObject({
    context: {
      displayLanguage,
      mailbox: { item },
      requirements: {
        isSetSupported: (name, version) => name === 'Mailbox' && versionAtMost(version, mailboxVersion),
      },
    },
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
  }, 'outlook');
  return { office, calls, subject: () => currentSubject };
}
