// OnMessageSend reminder: manifest.onsend.xml and web/launchevent.js (a classic script,
// loaded here the way Outlook's JavaScript runtime loads it, with an office-addin-mock Office).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { OfficeMockObject } from 'office-addin-mock';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const schema = process.env.ADDIN_SCHEMA_DIR
  ? `${process.env.ADDIN_SCHEMA_DIR.replace(/\/?$/, '/')}OfficeAppManifestV1_1.xsd`
  : fileURLToPath(new URL('../../../shared/schemas/office-addin/OfficeAppManifestV1_1.xsd', import.meta.url));
const source = readFileSync(new URL('../web/launchevent.js', import.meta.url), 'utf8');
/** What the portal does when it serves the file (portal/Addin/AddinLaunchEventScript.cs). */
const withKeywords = (keywords) => source.replace(/\/\*keywords\*\/.*?\/\*end keywords\*\//s, `/*keywords*/${JSON.stringify(keywords)}/*end keywords*/`);

/** Runs launchevent.js against a compose item; returns what event.completed received. */
function loadScript({
  subject = '', body = '', headers = {}, mailboxVersion = '1.12', displayLanguage = 'en-US', bodyError = false,
  keywords = null, to = [], cc = [], bcc = [], markedFor = undefined,
} = {}) {
  const script = keywords ? withKeywords(keywords) : source;
  const list = (addresses) => ({ getAsync: (cb) => cb(ok(addresses.map((emailAddress) => ({ emailAddress })))) });
  const session = {
    getAsync: (name, cb) => cb(markedFor === undefined ? { status: 'failed', error: { code: 9057 } } : ok(markedFor)),
  };
  const associated = {};
  const ok = (value) => ({ status: 'succeeded', value });
  const office = new OfficeMockObject({
    context: {
      displayLanguage,
      requirements: { isSetSupported: (name, v) => name === 'Mailbox' && Number(v.split('.')[1]) <= Number(mailboxVersion.split('.')[1]) },
      mailbox: {
        item: {
          subject: { getAsync: (cb) => cb(ok(subject)) },
          to: list(to),
          cc: list(cc),
          bcc: list(bcc),
          sessionData: session,
          body: { getAsync: (type, cb) => cb(bodyError ? { status: 'failed', error: { message: 'x' } } : ok(type === 'text' ? body : `<p>${body}</p>`)) },
          internetHeaders: {
            getAsync: (names, cb) => cb(ok(Object.fromEntries(names.filter((n) => n in headers).map((n) => [n, headers[n]])))),
          },
        },
      },
    },
    actions: { associate: (name, fn) => { associated[name] = fn; } },
  }, 'outlook');
  const sandbox = { Office: office };
  vm.runInNewContext(script, sandbox, { filename: 'launchevent.js' });
  return {
    api: sandbox.SecureMailboxOnSend,
    send: () => new Promise((resolve) => associated.onMessageSendHandler({ completed: (options) => resolve({ ...options }) })),
    associated,
  };
}

describe('identity number detection', () => {
  const { api } = loadScript();
  const find = (text) => [...api.findIdentityNumbers(text)];

  test('valid personnummer and samordningsnummer in the usual forms are found', () => {
    assert.deepEqual(find('Patient 811218-9876 har tid.'), ['8112189876']);
    assert.deepEqual(find('pnr 19811218-9876'), ['8112189876']);
    assert.deepEqual(find('pnr:198112189876.'), ['8112189876']);
    assert.deepEqual(find('född 1912: 121212+1212'), ['1212121212']); // '+' for 100 years or older
    assert.deepEqual(find('samordningsnummer 701063-2391'), ['7010632391']);
    assert.deepEqual(find('811218-9876, 19121212-1212'), ['8112189876', '1212121212']);
  });

  test('wrong check digits, impossible dates and look-alikes are not', () => {
    assert.deepEqual(find('811218-9875'), [], 'check digit off by one');
    assert.deepEqual(find('811318-9876'), [], 'month 13');
    assert.deepEqual(find('19810230-1234'), [], '30 February');
    assert.deepEqual(find('070-123 45 67 and 0701234567'), [], 'phone numbers');
    assert.deepEqual(find('8112189876'), [], 'ten digits without separator are ignored');
    assert.deepEqual(find('ordernummer 1198112189876'), [], 'part of a longer number');
    assert.deepEqual(find(''), []);
  });
});

describe('onMessageSendHandler', () => {
  test('registers itself with Office.actions.associate', () => {
    assert.equal(typeof loadScript().associated.onMessageSendHandler, 'function');
  });

  test('unflagged mail with a valid personnummer prompts the user (English)', async () => {
    const result = await loadScript({ subject: 'Remiss', body: 'Gäller 19811218-9876.' }).send();
    assert.equal(result.allowEvent, false);
    assert.match(result.errorMessage, /personal identity number/);
    assert.equal(result.commandId, undefined, 'no task pane button before Mailbox 1.14');
  });

  test('Swedish texts, and the task pane button where Mailbox 1.14 allows it', async () => {
    const result = await loadScript({ body: '811218-9876', displayLanguage: 'sv-SE', mailboxVersion: '1.14' }).send();
    assert.equal(result.allowEvent, false);
    assert.match(result.errorMessage, /personnummer/);
    assert.equal(result.cancelLabel, 'Skicka säkert');
    assert.equal(result.commandId, 'SecureMailbox.Compose.SendSecure');
  });

  test('flagged mail, subject keyword, or no number: sent without a prompt', async () => {
    assert.deepEqual(await loadScript({ body: '811218-9876', headers: { 'X-SecureMailbox': 'secure' } }).send(), { allowEvent: true });
    assert.deepEqual(await loadScript({ subject: '[säker] Remiss', body: '811218-9876' }).send(), { allowEvent: true });
    assert.deepEqual(await loadScript({ subject: 'Lunch', body: 'Ring 070-123 45 67' }).send(), { allowEvent: true });
    assert.deepEqual(await loadScript({ body: '811218-9875' }).send(), { allowEvent: true });
  });

  test('a number in the subject counts too; an unreadable body does not block', async () => {
    assert.equal((await loadScript({ subject: 'Ang. 811218-9876', bodyError: true }).send()).allowEvent, false);
    assert.deepEqual(await loadScript({ subject: 'Remiss', bodyError: true }).send(), { allowEvent: true });
  });
});

describe('configured keywords and the recipients the mark was made for', () => {
  test('the portal writes the configured keywords in; the defaults are gone then', async () => {
    const body = 'Personnummer 811218-9876';
    assert.deepEqual(await loadScript({ keywords: ['[hemligt]'], subject: 'Svar [HEMLIGT]', body }).send(), { allowEvent: true });
    assert.equal((await loadScript({ keywords: ['[hemligt]'], subject: 'Svar [secure]', body }).send()).allowEvent, false);
    assert.deepEqual(await loadScript({ subject: 'Svar [säker]', body }).send(), { allowEvent: true }, 'unserved file: the defaults');
  });

  test('flagged, recipients as marked (any order, any case): sent', async () => {
    const markedFor = ['anna@example.org', 'bo@example.net', 'x@example.se'].join('\n');
    const result = await loadScript({ headers: { 'X-SecureMailbox': 'secure' }, to: ['Bo@example.net'], cc: ['x@example.se'], bcc: ['anna@example.org'], markedFor }).send();
    assert.deepEqual(result, { allowEvent: true });
  });

  test('flagged, a recipient added after marking: stopped with a message that says to open the pane', async () => {
    const markedFor = ['anna@example.org'].join('\n');
    const result = await loadScript({ headers: { 'X-SecureMailbox': 'secure' }, to: ['anna@example.org'], bcc: ['ny@example.net'], markedFor, mailboxVersion: '1.14' }).send();
    assert.equal(result.allowEvent, false);
    assert.match(result.errorMessage, /recipients changed after the message was marked/);
    assert.equal(result.commandId, 'SecureMailbox.Compose.SendSecure');
    const sv = await loadScript({ headers: { 'X-SecureMailbox': 'secure' }, to: [], markedFor, displayLanguage: 'sv-SE' }).send();
    assert.match(sv.errorMessage, /Mottagarna ändrades/);
  });

  test('flagged without the pane\'s record (another device, a script): sent', async () => {
    assert.deepEqual(await loadScript({ headers: { 'X-SecureMailbox': 'secure' }, to: ['anna@example.org'] }).send(), { allowEvent: true });
  });
});

describe('manifest.onsend.xml', () => {
  const text = readFileSync(`${repo}manifest.onsend.xml`, 'utf8');
  const lint = (args, input) => {
    const run = spawnSync('xmllint', args, { input, encoding: 'utf8' });
    if (run.error && run.error.code === 'ENOENT') assert.fail('xmllint is not installed (Debian package libxml2-utils)');
    return run;
  };

  test('is well-formed, says it is outside the old schema, and wires OnMessageSend', () => {
    const run = lint(['--noout', '--nonet', `${repo}manifest.onsend.xml`]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(text, /NOT validated against the old schema/);
    assert.match(text, /<LaunchEvent Type="OnMessageSend" FunctionName="onMessageSendHandler" SendMode="PromptUser" \/>/);
    assert.match(text, /launchevent\.html/);
    assert.match(text, /<Override type="javascript" resid="LaunchEvent\.Script\.Url" \/>/);
  });

  test('everything except Runtimes and the LaunchEvent extension point is schema-valid', () => {
    const withoutEvents = text
      .replace(/<Runtimes>[\s\S]*?<\/Runtimes>/, '')
      .replace(/<ExtensionPoint xsi:type="LaunchEvent">[\s\S]*?<\/ExtensionPoint>/, '');
    assert.notEqual(withoutEvents, text);
    const run = lint(['--noout', '--nonet', '--schema', schema, '-'], withoutEvents);
    assert.equal(run.status, 0, run.stderr);
    const full = lint(['--noout', '--nonet', '--schema', schema, '-'], text);
    assert.notEqual(full.status, 0, 'the old schema unexpectedly accepts Runtimes');
    assert.match(full.stderr, /Runtimes/);
  });
});
