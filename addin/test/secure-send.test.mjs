// The "Send secure" flow against an Outlook compose item mocked with office-addin-mock.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as phoneLib from 'libphonenumber-js/mobile';
import { outlookMock } from './helpers/outlook-mock.mjs';
import { capabilities, markSecureAndSend } from '../web/secure-send.js';
import { classifyRecipients, readRecipients } from '../web/recipients.js';
import { normalisePhone } from '../web/phone.js';
import { HeaderValueError, parsePhoneHeader } from '../web/headers.js';
import { OfficeCallError } from '../web/office-async.js';

const organisation = ['example.se'];
const mixedRecipients = {
  to: [
    { emailAddress: 'anna@example.org', displayName: 'Anna Andersson' },
    { emailAddress: 'handlaggare@example.se', displayName: 'Handläggare' },
  ],
  cc: [
    { emailAddress: 'Bo@Example.net', displayName: 'Bo' },
    { emailAddress: 'chef@region.example.se', displayName: 'Chef' },
  ],
  bcc: [
    { emailAddress: 'cecilia@example.com', displayName: 'Cecilia' },
    { emailAddress: 'anna@example.org', displayName: 'Anna (Bcc)' },
  ],
};
// What the user typed for each external recipient.
const typed = {
  'anna@example.org': '070-123 45 67',
  'bo@example.net': '+358 40 123 4567',
  'cecilia@example.com': '0046 73 987 65 43',
};

/** The pane's own path from recipients to entries: read, classify, normalise. */
async function entriesFor(office) {
  const recipients = classifyRecipients(await readRecipients(office.context.mailbox.item), organisation);
  return recipients.filter((r) => r.external).map((r) => {
    const outcome = normalisePhone(phoneLib, typed[r.key], 'SE');
    assert.equal(outcome.ok, true, r.key);
    return { address: r.key, phone: outcome.e164 };
  });
}

describe('markSecureAndSend with Mailbox 1.8', () => {
  test('sets the flag and one phone list for the external To/Cc/Bcc recipients only', async () => {
    const { office, calls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.8' });
    const entries = await entriesFor(office);
    const progress = [];
    const result = await markSecureAndSend(office, { entries, onProgress: (stage) => progress.push(stage) });

    assert.equal(calls.headers.length, 1);
    assert.deepEqual(calls.headers[0], {
      'X-SecureMailbox': 'secure',
      'X-SecureMailbox-Phone': 'anna@example.org=+46701234567, bo@example.net=+358401234567, cecilia@example.com=+46739876543',
    });
    assert.deepEqual(parsePhoneHeader(calls.headers[0]['X-SecureMailbox-Phone']).map((p) => p.address),
      ['anna@example.org', 'bo@example.net', 'cecilia@example.com']);
    assert.equal(result.mode, 'headers');
    assert.equal(result.sent, false, 'Mailbox 1.8 has no sendAsync: the user presses Send');
    assert.equal(calls.sends, 0);
    assert.deepEqual(calls.subjects, [], 'the subject is left alone when headers work');
    assert.deepEqual(progress, ['working', 'flagged']);
  });

  test('only internal recipients: the flag alone', async () => {
    const { office, calls } = outlookMock({ to: [{ emailAddress: 'kollega@example.se' }] });
    await markSecureAndSend(office, { entries: [] });
    assert.deepEqual(calls.headers, [{ 'X-SecureMailbox': 'secure' }]);
  });

  test('an error from internetHeaders.setAsync is reported and nothing is sent', async () => {
    const { office, calls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.15', headersError: { code: 9041, name: 'InternalError', message: 'The header limit was reached.' } });
    await assert.rejects(markSecureAndSend(office, { entries: await entriesFor(office) }), (error) =>
      error instanceof OfficeCallError && error.stage === 'flag' && error.code === 9041
      && error.officeMessage === 'The header limit was reached.');
    assert.equal(calls.sends, 0);
    assert.ok(!calls.order.includes('sendAsync'));
  });

  test('an unsafe value is refused before the item is touched', async () => {
    const { office, calls } = outlookMock({ ...mixedRecipients });
    await assert.rejects(markSecureAndSend(office, {
      entries: [{ address: 'anna@example.org', phone: '+46701234567\r\nBcc: eve@evil.example' }],
    }), HeaderValueError);
    await assert.rejects(markSecureAndSend(office, {
      entries: [{ address: 'anna@example.org, eve@evil.example', phone: '+46701234567' }],
    }), HeaderValueError);
    assert.deepEqual(calls.headers, []);
    assert.ok(!calls.order.includes('internetHeaders.setAsync'));
  });
});

describe('markSecureAndSend with Mailbox 1.15', () => {
  test('flags, then sends with item.sendAsync', async () => {
    const { office, calls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.15' });
    assert.deepEqual(capabilities(office), { internetHeaders: true, send: true });
    const progress = [];
    const result = await markSecureAndSend(office, { entries: await entriesFor(office), onProgress: (s) => progress.push(s) });
    assert.equal(result.sent, true);
    assert.equal(calls.sends, 1);
    assert.deepEqual(calls.order.slice(-2), ['internetHeaders.setAsync', 'sendAsync']);
    assert.deepEqual(progress, ['working', 'flagged', 'sending']);
  });

  test('a failing sendAsync is reported as a send error after the flag was set', async () => {
    const { office, calls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.15', sendError: { code: 9043, message: 'Send failed.' } });
    await assert.rejects(markSecureAndSend(office, { entries: await entriesFor(office) }), (error) =>
      error.stage === 'send' && error.officeMessage === 'Send failed.' && error.result.mode === 'headers');
    assert.equal(calls.headers.length, 1);
  });
});

describe('markSecureAndSend without Mailbox 1.8 (subject keyword fallback)', () => {
  test('adds the keyword to the subject and sets no headers', async () => {
    const { office, calls, subject } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.7', subject: 'Remiss 2026-11' });
    assert.deepEqual(capabilities(office), { internetHeaders: false, send: false });
    const result = await markSecureAndSend(office, { entries: [], subjectKeyword: '[secure]' });
    assert.equal(result.mode, 'subject');
    assert.equal(result.sent, false);
    assert.equal(subject(), '[secure] Remiss 2026-11');
    assert.deepEqual(calls.headers, []);
  });

  test('pressing the button twice does not add the keyword twice', async () => {
    const { office, calls, subject } = outlookMock({ mailboxVersion: '1.5', subject: 'Remiss' });
    await markSecureAndSend(office, { subjectKeyword: '[säker]' });
    await markSecureAndSend(office, { subjectKeyword: '[säker]' });
    assert.equal(subject(), '[säker] Remiss');
    assert.deepEqual(calls.subjects, ['[säker] Remiss'], 'the second press must not call setAsync');
  });

  test('a subject that already holds the keyword is left as it is', async () => {
    const { office, calls } = outlookMock({ mailboxVersion: '1.1', subject: 'SV: [SECURE] Remiss' });
    const result = await markSecureAndSend(office, { subjectKeyword: '[secure]' });
    assert.equal(result.subject, 'SV: [SECURE] Remiss');
    assert.deepEqual(calls.subjects, []);
  });

  test('an error from subject.setAsync is reported', async () => {
    const { office } = outlookMock({ mailboxVersion: '1.7', subject: 'Remiss', subjectError: { code: 5001, message: 'Internal error.' } });
    await assert.rejects(markSecureAndSend(office, {}), (error) => error.stage === 'flag' && error.officeMessage === 'Internal error.');
  });

  test('a client that reports 1.8 but lacks internetHeaders also falls back', async () => {
    const { office, calls, subject } = outlookMock({ mailboxVersion: '1.7', subject: 'x' });
    office.context.requirements.isSetSupported = () => true; // claims everything, has neither API
    assert.deepEqual(capabilities(office), { internetHeaders: false, send: false });
    await markSecureAndSend(office, { subjectKeyword: '[secure]' });
    assert.equal(subject(), '[secure] x');
    assert.deepEqual(calls.headers, []);
  });
});
