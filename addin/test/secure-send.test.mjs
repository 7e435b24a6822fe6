// Marking, unmarking and sending against the Office stub built from @types/office-js (wrapped in
// office-addin-mock), at every Mailbox level the pane distinguishes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as phoneLib from 'libphonenumber-js/mobile';
import { officeApi, outlookMock, versionAtMost } from './helpers/outlook-mock.mjs';
import { requirementOf } from './helpers/office-api.mjs';
import { capabilities, markSecure, MARKED_FOR_KEY, readMark, recipientKeys, sendItem, unmark } from '../web/secure-send.js';
import { classifyRecipients, readRecipients } from '../web/recipients.js';
import { normalisePhone } from '../web/phone.js';
import { HeaderValueError, PHONE_HEADER, SEALED_HEADER } from '../web/headers.js';
import { SealError, sealerFor } from '../web/seal.js';
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
const typed = {
  'anna@example.org': '070-123 45 67',
  'bo@example.net': '+358 40 123 4567',
  'cecilia@example.com': '0046 73 987 65 43',
};

let dir;
let gateway;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'smbx-send-'));
  const file = join(dir, 'gateway.key');
  assert.equal(spawnSync('age-keygen', ['-o', file]).status, 0, 'the stock age-keygen tool is needed');
  gateway = { file, recipient: spawnSync('age-keygen', ['-y', file]).stdout.toString().trim() };
});
after(() => rmSync(dir, { recursive: true, force: true }));
const openSealed = (value) => {
  const run = spawnSync('age', ['-d', '-i', gateway.file], { input: Buffer.from(value.replace(/\s+/g, ''), 'base64') });
  assert.equal(run.status, 0, run.stderr.toString());
  return run.stdout.toString();
};

async function recipientsOf(item) {
  return classifyRecipients(await readRecipients(item), organisation);
}
function entriesFrom(recipients) {
  return recipients.filter((r) => r.external).map((r) => ({ address: r.key, phone: normalisePhone(phoneLib, typed[r.key], 'SE').e164 }));
}

const LEVELS = ['1.1', '1.3', '1.5', '1.7', '1.8', '1.11', '1.15'];

describe('capabilities follow the requirement sets declared in @types/office-js', () => {
  for (const level of LEVELS) {
    test(`Mailbox ${level}`, () => {
      const { office } = outlookMock({ ...mixedRecipients, mailboxVersion: level });
      const can = capabilities(office);
      const at = (iface, member) => versionAtMost(requirementOf(officeApi, iface, member), level);
      assert.equal(can.internetHeaders, at('MessageCompose', 'internetHeaders'));
      assert.equal(can.send, at('MessageCompose', 'sendAsync'));
      assert.equal(can.sessionData, at('MessageCompose', 'sessionData'));
      assert.equal(can.recipientsChanged, at('MessageCompose', 'addHandlerAsync'));
      assert.equal(can.itemChanged, at('Mailbox', 'addHandlerAsync'));
    });
    test(`Mailbox ${level} in a host that exposes unsupported members: isSetSupported decides`, () => {
      const { office } = outlookMock({ ...mixedRecipients, mailboxVersion: level, exposeUnsupported: true });
      const can = capabilities(office);
      assert.equal(can.internetHeaders, versionAtMost('1.8', level));
      assert.equal(can.send, versionAtMost('1.15', level));
      assert.equal(can.sessionData, versionAtMost('1.11', level));
    });
  }

  test('the declared sets the pane relies on are the ones its comments name', () => {
    assert.equal(requirementOf(officeApi, 'MessageCompose', 'internetHeaders'), '1.8');
    assert.equal(requirementOf(officeApi, 'InternetHeaders', 'removeAsync'), '1.8');
    assert.equal(requirementOf(officeApi, 'MessageCompose', 'sessionData'), '1.11');
    assert.equal(requirementOf(officeApi, 'MessageCompose', 'sendAsync'), '1.15');
    assert.equal(requirementOf(officeApi, 'MessageCompose', 'addHandlerAsync'), '1.7');
    assert.equal(requirementOf(officeApi, 'Mailbox', 'addHandlerAsync'), '1.5');
  });

  test('NestedAppAuth is asked for separately', () => {
    assert.equal(capabilities(outlookMock({ mailboxVersion: '1.15' }).office).nestedAppAuth, false);
    assert.equal(capabilities(outlookMock({ mailboxVersion: '1.15', nestedAppAuth: true }).office).nestedAppAuth, true);
  });
});

describe('markSecure with internet headers', () => {
  for (const level of ['1.8', '1.11', '1.15']) {
    test(`Mailbox ${level}: the flag and the sealed list of every external recipient (Bcc included), nothing in clear`, async () => {
      const { office, calls, controls } = outlookMock({ ...mixedRecipients, mailboxVersion: level });
      const item = office.context.mailbox.item;
      const can = capabilities(office);
      const recipients = await recipientsOf(item);
      const keys = recipientKeys(recipients);

      const result = await markSecure(item, can, { entries: entriesFrom(recipients), seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]', keys });

      assert.equal(result.mode, 'headers');
      const headers = controls.headers();
      assert.deepEqual(Object.keys(headers).sort(), ['X-SecureMailbox', SEALED_HEADER].sort());
      assert.equal(headers['X-SecureMailbox'], 'secure');
      assert.equal(PHONE_HEADER in headers, false);
      assert.doesNotMatch(JSON.stringify(headers), /example|@|4670/);
      assert.equal(openSealed(headers[SEALED_HEADER]),
        'anna@example.org=+46701234567, bo@example.net=+358401234567, cecilia@example.com=+46739876543');
      assert.deepEqual(calls.subjects, []);
      assert.deepEqual(calls.violations, []);
      if (versionAtMost('1.11', level)) assert.deepEqual(controls.session(), { [MARKED_FOR_KEY]: keys });
      else assert.equal(calls.session.length, 0);
    });
  }

  test('an unusable value is refused before Outlook is touched', async () => {
    const { office, calls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.15' });
    const item = office.context.mailbox.item;
    await assert.rejects(markSecure(item, capabilities(office), {
      entries: [{ address: 'anna@example.org\r\nBcc: x@evil.example', phone: '+46701234567' }], seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]',
    }), HeaderValueError);
    await assert.rejects(markSecure(item, capabilities(office), {
      entries: [{ address: 'anna@example.org', phone: '+46701234567' }], seal: sealerFor(null), subjectKeyword: '[secure]',
    }), SealError);
    assert.deepEqual(calls.order, []);
  });

  test('marking again for internal recipients only drops the earlier sealed list', async () => {
    const { office, controls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.8' });
    const item = office.context.mailbox.item;
    const can = capabilities(office);
    await markSecure(item, can, { entries: entriesFrom(await recipientsOf(item)), seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]' });
    assert.ok(SEALED_HEADER in controls.headers());

    await markSecure(item, can, { entries: [], seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]' });

    assert.deepEqual(controls.headers(), { 'X-SecureMailbox': 'secure' });
  });

  test('Outlook refusing the headers is an OfficeCallError', async () => {
    const { office } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.8', errors: { 'internetHeaders.setAsync': { code: 9020, message: 'Generic error' } } });
    const item = office.context.mailbox.item;
    await assert.rejects(markSecure(item, capabilities(office), { entries: [], seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]' }),
      (error) => error instanceof OfficeCallError && /Generic error/.test(error.message));
  });

  test('unmark removes the flag and the sealed list; readMark sees it', async () => {
    const { office, controls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.15' });
    const item = office.context.mailbox.item;
    const can = capabilities(office);
    await markSecure(item, can, { entries: entriesFrom(await recipientsOf(item)), seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]', keys: 'x' });
    assert.equal(await readMark(item, can, '[secure]'), true);

    await unmark(item, can, { subjectKeyword: '[secure]' });

    assert.deepEqual(controls.headers(), {});
    assert.deepEqual(controls.session(), {});
    assert.equal(await readMark(item, can, '[secure]'), false);
  });

  test('sendItem sends what the item holds at that moment', async () => {
    const { office, calls } = outlookMock({ ...mixedRecipients, mailboxVersion: '1.15' });
    const item = office.context.mailbox.item;
    await markSecure(item, capabilities(office), { entries: [], seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]' });
    await sendItem(item);
    assert.equal(calls.sends, 1);
    assert.deepEqual(calls.sent[0].headers, { 'X-SecureMailbox': 'secure' });
  });
});

describe('below Mailbox 1.8: the subject keyword', () => {
  for (const exposeUnsupported of [false, true]) {
    test(`adds the keyword once and removes it on unmark${exposeUnsupported ? ' (host exposes unsupported members)' : ''}`, async () => {
      const { office, calls, controls } = outlookMock({ ...mixedRecipients, subject: 'Provsvar', mailboxVersion: '1.7', exposeUnsupported });
      const item = office.context.mailbox.item;
      const can = capabilities(office);

      const first = await markSecure(item, can, { entries: entriesFrom(await recipientsOf(item)), seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]' });
      await markSecure(item, can, { entries: [], seal: sealerFor(gateway.recipient), subjectKeyword: '[secure]' });

      assert.equal(first.mode, 'subject');
      assert.deepEqual(calls.subjects, ['[secure] Provsvar']);
      assert.equal(calls.headers.length, 0, 'no header call at all');
      assert.deepEqual(calls.violations, []);
      assert.equal(await readMark(item, can, '[secure]'), true);
      await unmark(item, can, { subjectKeyword: '[SECURE]' });
      assert.equal(controls.subject(), 'Provsvar');
    });
  }
});
