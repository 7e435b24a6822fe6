// The task pane in a real Chromium, served over HTTP under /addin/, with a stub office.js.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTENT_SECURITY_POLICY, startStaticServer } from './helpers/static-server.mjs';
import { officeApi } from './helpers/outlook-mock.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OFFICE_JS = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';
const repo = fileURLToPath(new URL('../../', import.meta.url));
const screenshots = `${repo}artifacts/screenshots/`;
const stubSource = readFileSync(new URL('./fixtures/office-stub.js', import.meta.url), 'utf8');

const keyDir = mkdtempSync(join(tmpdir(), 'smbx-pane-'));
const gatewayKey = join(keyDir, 'gateway.key');
assert.equal(spawnSync('age-keygen', ['-o', gatewayKey]).status, 0, 'the stock age-keygen tool is needed (Debian package age)');
const gatewayRecipient = spawnSync('age-keygen', ['-y', gatewayKey]).stdout.toString().trim();
/** What the gateway reads out of the sealed header, opened with the stock age tool. */
const openSealed = (value) => {
  const run = spawnSync('age', ['-d', '-i', gatewayKey], { input: Buffer.from(String(value).replace(/\s+/g, ''), 'base64') });
  assert.equal(run.status, 0, `age could not open the sealed header: ${run.stderr}`);
  return run.stdout.toString();
};

const config = {
  gatewayRecipient,
  organisationDomains: ['example.se'],
  subjectKeyword: '[secure]',
  defaultCountry: 'SE',
  portalBaseUrl: 'https://securemailbox.example.se',
  graphLookup: false,
};
const recipients = {
  to: [
    { emailAddress: 'anna@example.org', displayName: 'Anna Andersson' },
    { emailAddress: 'handlaggare@example.se', displayName: 'Handläggare Hansson' },
  ],
  cc: [
    { emailAddress: 'bo@example.net', displayName: 'Bo Berg' },
    { emailAddress: 'chef@region.example.se', displayName: 'Chef' },
  ],
  bcc: [{ emailAddress: 'cecilia@example.com', displayName: 'Cecilia' }],
};

let browser;
let server;
const external = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM),
    `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH. The task pane test needs a real browser.`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  server = await startStaticServer({ webRoot: fileURLToPath(new URL('../web/', import.meta.url)), config });
  mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

/** A fresh page: stub office.js routed in, every other non-local request blocked and noted. */
async function openPane(stub, { width = 320, height = 720, storage = {}, routes = {}, msal = null, wait = true } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, serviceWorkers: 'block' });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === OFFICE_JS) return route.fulfill({ status: 200, contentType: 'text/javascript', body: stubSource });
    const path = url.startsWith(server.origin) ? url.slice(server.origin.length) : null;
    if (path && routes[path]) return routes[path](route);
    if (url.startsWith(server.origin)) return route.continue();
    external.push(url);
    return route.abort();
  });
  await context.addInitScript(({ stub, storage, api }) => {
    window.__officeStub = stub;
    window.__officeApi = api;
    for (const [key, value] of Object.entries(storage)) window.localStorage.setItem(key, value);
  }, { stub, storage, api: officeApi });
  // Stands in for MSAL.js's nestable client (Outlook's broker is not there): tokens or a refusal.
  if (msal) {
    await context.addInitScript((answer) => {
      // answer: { token } for both, or { silent, popup } each a token or { error }.
      const reply = (value) => (typeof value === 'string' ? Promise.resolve({ accessToken: value }) : Promise.reject(new Error(value?.error ?? 'refused')));
      const silent = answer.token ?? answer.silent ?? { error: answer.error };
      const popup = answer.token ?? answer.popup ?? { error: answer.error };
      window.__msalCalls = [];
      window.msal = {
        createNestablePublicClientApplication: async (config) => {
          window.__msalCalls.push({ config });
          return {
            acquireTokenSilent: (request) => { window.__msalCalls.push({ silent: request }); return reply(silent); },
            acquireTokenPopup: (request) => { window.__msalCalls.push({ popup: request }); return reply(popup); },
          };
        },
      };
    }, msal);
  }
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.origin}/addin/taskpane.html`);
  if (wait) await page.waitForSelector('#recipient-list li, #recipients-empty:not([hidden])');
  return { page, context, errors };
}
const stubCalls = (page) => page.evaluate(() => window.__officeStub.calls);
const itemHeaders = (page) => page.evaluate(() => window.__officeStub.controls.headers());
const status = (page) => page.locator('#status');
const waitState = (page, state) => page.waitForFunction((s) => document.querySelector('#status').dataset.state === s, state);
const keysOf = (...addresses) => addresses.map((a) => a.toLowerCase()).sort().join('\n');

const allExternal = 'anna@example.org=+46701234567, bo@example.net=+358401234567, cecilia@example.com=+46739876543';
const allKeys = keysOf('anna@example.org', 'handlaggare@example.se', 'bo@example.net', 'chef@region.example.se', 'cecilia@example.com');

describe('task pane in Chromium, one requirement-set level at a time', () => {
  test('Mailbox 1.15: numbers checked as typed, the sealed list set, then sent (320 px, keyboard only)', async () => {
    const { page, context, errors } = await openPane(
      { ...recipients, mailboxVersion: '1.15', displayLanguage: 'en-US' },
      { storage: { 'securemailbox.phone.bo@example.net': '+358401234567' } },
    );
    assert.equal(await page.locator('#script-missing').count(), 0, 'the no-script message goes once the pane starts');
    assert.equal(await page.locator('#recipient-list li').count(), 5);
    assert.equal(await page.locator('#recipient-list li.external').count(), 3);
    assert.equal(await page.locator('input[type=tel]').count(), 3, 'one phone field per external recipient');

    const anna = page.getByLabel('Mobile number for anna@example.org');
    const bo = page.getByLabel('Mobile number for bo@example.net');
    const cecilia = page.getByLabel('Mobile number for cecilia@example.com');
    assert.equal(await bo.inputValue(), '+358401234567');
    assert.equal(await anna.inputValue(), '');

    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /Check the mobile numbers marked below \(2\)/);
    assert.equal(await anna.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'Enter a mobile number.');
    assert.ok(await anna.evaluate((el) => el === document.activeElement), 'focus moves to the first bad field');
    assert.deepEqual((await stubCalls(page)).headers, []);

    await anna.fill('07O-123 45 67');
    await anna.blur();
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'Use only digits, spaces, +, - and parentheses.');
    await anna.fill('070-123 45 67');
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'Will be sent as +46701234567.');
    assert.match(await status(page).textContent(), /\(1\)/, 'one field left to fix');

    await cecilia.focus();
    await page.keyboard.type('073-987 65 43');
    assert.equal(await status(page).textContent(), '', 'the summary clears once every number is valid');
    const outline = (locator) => locator.evaluate((el) => {
      const style = getComputedStyle(el);
      return { focused: el === document.activeElement, style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    const inputFocus = await outline(cecilia);
    assert.ok(inputFocus.focused && inputFocus.style !== 'none' && inputFocus.width >= 2, `input focus is visible: ${JSON.stringify(inputFocus)}`);
    await page.keyboard.press('Tab');
    const buttonFocus = await outline(page.getByRole('button', { name: 'Send secure' }));
    assert.ok(buttonFocus.focused && buttonFocus.style !== 'none' && buttonFocus.width >= 2, `button focus is visible: ${JSON.stringify(buttonFocus)}`);
    await page.keyboard.press('Enter');
    await waitState(page, 'done');
    assert.equal(await status(page).textContent(), 'The message was sent securely.');
    await page.screenshot({ path: `${screenshots}addin-taskpane.png`, fullPage: true });

    const calls = await stubCalls(page);
    assert.equal(calls.sends, 1);
    const sent = calls.sent[0];
    assert.equal(sent.recipients, allKeys, 'sent to the recipients the pane showed');
    assert.deepEqual(Object.keys(sent.headers).sort(), ['X-SecureMailbox', 'X-SecureMailbox-Sealed']);
    assert.doesNotMatch(JSON.stringify(sent.headers), /example|cecilia|4670/, 'nothing readable in the message');
    assert.equal(openSealed(sent.headers['X-SecureMailbox-Sealed']), allExternal);
    assert.deepEqual(calls.subjects, []);
    assert.deepEqual(calls.violations, []);
    assert.ok(calls.order.indexOf('sendAsync') > calls.order.lastIndexOf('to.getAsync'), 'recipients read again right before sending');
    assert.ok(calls.order.lastIndexOf('internetHeaders.setAsync') < calls.order.lastIndexOf('to.getAsync'));
    assert.equal(await page.evaluate(() => localStorage.getItem('securemailbox.phone.anna@example.org')), '+46701234567');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'horizontal overflow at 320 px');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Mailbox 1.8: sealed list set, user told to press Send; Unmark removes it (wide pane)', async () => {
    const { page, context, errors } = await openPane({ ...recipients, mailboxVersion: '1.8' }, { width: 800, height: 900 });
    await page.getByLabel('Mobile number for anna@example.org').fill('+46 70 123 45 67');
    await page.getByLabel('Mobile number for bo@example.net').fill('+358 40 123 4567');
    await page.getByLabel('Mobile number for cecilia@example.com').fill('0739876543');
    assert.equal(await page.locator('#unmark').isHidden(), true);
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    assert.equal(await status(page).textContent(), 'The message is marked as secure. Press Send in Outlook to send it.');
    const headers = await itemHeaders(page);
    assert.equal(openSealed(headers['X-SecureMailbox-Sealed']), allExternal);
    assert.equal((await stubCalls(page)).sends, 0);
    await page.screenshot({ path: `${screenshots}addin-taskpane-wide.png`, fullPage: true });

    await page.getByRole('button', { name: 'Remove secure marking' }).click();
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('no longer marked'));
    assert.deepEqual(await itemHeaders(page), {});
    assert.equal(await page.locator('#unmark').isHidden(), true);
    assert.deepEqual((await stubCalls(page)).violations, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Mailbox 1.1 in a host that exposes newer members: only the subject keyword, no header or send call', async () => {
    const { page, context, errors } = await openPane({ ...recipients, mailboxVersion: '1.1', exposeUnsupported: true, subject: 'Remiss' });
    assert.equal(await page.locator('input[type=tel]').count(), 0);
    assert.equal(await page.locator('#fallback-notice').isVisible(), true);
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    assert.equal(await status(page).textContent(), '“[secure]” was added to the subject. Press Send in Outlook to send the message.');
    const calls = await stubCalls(page);
    assert.deepEqual(calls.subjects, ['[secure] Remiss']);
    assert.deepEqual(calls.violations, [], 'no member of an unsupported set was used');
    assert.equal(calls.sends, 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Swedish Outlook at Mailbox 1.7: subject keyword fallback, added once', async () => {
    const { page, context, errors } = await openPane({ ...recipients, mailboxVersion: '1.7', displayLanguage: 'sv-SE', subject: 'Remiss' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'sv');
    assert.equal(await page.locator('h1').textContent(), 'Skicka säkert');
    assert.match(await page.locator('#fallback-notice').textContent(), /”\[secure\]” läggs till i ämnesraden/);
    const button = page.getByRole('button', { name: 'Skicka säkert' });
    await button.click();
    await waitState(page, 'done');
    assert.equal(await status(page).textContent(), '”[secure]” lades till i ämnesraden. Tryck på Skicka i Outlook för att skicka meddelandet.');
    await button.click();
    await page.waitForFunction(() => window.__officeStub.calls.order.filter((c) => c === 'subject.getAsync').length >= 3);
    await waitState(page, 'done');
    const calls = await stubCalls(page);
    assert.deepEqual(calls.subjects, ['[secure] Remiss']);
    await page.screenshot({ path: `${screenshots}addin-taskpane-sv-fallback.png`, fullPage: true });
    assert.deepEqual(calls.headers, []);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('the header is what is sent', () => {
  test('a recipient added without an event just before Send secure: nothing sent, the list is redrawn', async () => {
    const { page, context, errors } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15' });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.evaluate(() => window.__officeStub.controls.setRecipients('bcc', [{ emailAddress: 'dold@example.net' }], true));
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /The recipients changed\. Check the list/);
    assert.equal((await stubCalls(page)).sends, 0);
    assert.deepEqual((await stubCalls(page)).headers, []);
    assert.equal(await page.getByLabel('Mobile number for anna@example.org').inputValue(), '070-123 45 67', 'typed numbers are kept');

    await page.getByLabel('Mobile number for dold@example.net').fill('+358401234567');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    const { sent } = await stubCalls(page);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].recipients, keysOf('anna@example.org', 'dold@example.net'));
    assert.equal(openSealed(sent[0].headers['X-SecureMailbox-Sealed']), 'anna@example.org=+46701234567, dold@example.net=+358401234567');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a recipient added between marking and sendAsync: not sent, the marking is removed', async () => {
    const { page, context } = await openPane({
      to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15',
      changeAfter: { call: 'internetHeaders.setAsync', field: 'bcc', list: [{ emailAddress: 'sent.too@example.net' }] },
    });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /changed while the message was being marked.*nothing was sent/);
    const calls = await stubCalls(page);
    assert.equal(calls.sends, 0);
    assert.deepEqual(await itemHeaders(page), {}, 'the mark made for the earlier recipients is gone');
    await context.close();
  });

  test('after marking, a new recipient with a known number: the sealed list is rewritten for the new recipients', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.11' },
      { storage: { 'securemailbox.phone.bo@example.net': '+358401234567' } });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');

    await page.evaluate(() => window.__officeStub.controls.setRecipients('cc', [{ emailAddress: 'bo@example.net' }]));
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('now covers the new recipients'));
    const headers = await itemHeaders(page);
    assert.equal(openSealed(headers['X-SecureMailbox-Sealed']), 'anna@example.org=+46701234567, bo@example.net=+358401234567');
    const session = await page.evaluate(() => window.__officeStub.controls.session());
    assert.equal(session['securemailbox.markedFor'], keysOf('anna@example.org', 'bo@example.net'), 'the on-send check compares with this');
    await context.close();
  });

  test('after marking, a number edited: the sealed list follows it', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.8' });
    const anna = page.getByLabel('Mobile number for anna@example.org');
    await anna.fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    await anna.fill('070-765 43 21');
    await anna.blur();
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('now covers'));
    assert.equal(openSealed((await itemHeaders(page))['X-SecureMailbox-Sealed']), 'anna@example.org=+46707654321');
    await anna.fill('070');
    await anna.blur();
    await waitState(page, 'error');
    assert.deepEqual(await itemHeaders(page), {}, 'an unusable number takes the mark away');
    await context.close();
  });

  test('opened on a message marked earlier: sealed again for what is shown, or the mark goes', async () => {
    const marked = { 'X-SecureMailbox': 'secure', 'X-SecureMailbox-Sealed': 'c3RhbGU=' };
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.8', headers: marked },
      { storage: { 'securemailbox.phone.anna@example.org': '+46701234567' } });
    await waitState(page, 'done');
    assert.equal(await status(page).textContent(), 'The message is marked as secure.');
    assert.equal(openSealed((await itemHeaders(page))['X-SecureMailbox-Sealed']), 'anna@example.org=+46701234567');
    await context.close();

    const second = await openPane({ to: [{ emailAddress: 'bo@example.net' }], mailboxVersion: '1.8', headers: marked });
    await waitState(second.page, 'error');
    assert.match(await status(second.page).textContent(), /marked as secure earlier, but numbers are missing/);
    assert.deepEqual(await second.page.evaluate(() => window.__officeStub.controls.headers()), {});
    await second.context.close();
  });

  test('after marking, a new recipient without a number: the marking is removed and the user is told', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.8' });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');

    await page.evaluate(() => window.__officeStub.controls.setRecipients('bcc', [{ emailAddress: 'ny@example.net' }]));
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /no longer marked as secure\. Enter the missing numbers/);
    assert.deepEqual(await itemHeaders(page), {});
    assert.equal(await page.locator('#unmark').isHidden(), true);
    await context.close();
  });

  test('after marking, the header cannot be updated: the marking is removed and the user is told', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.8' },
      { storage: { 'securemailbox.phone.bo@example.net': '+358401234567' } });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    await page.evaluate(() => { window.__officeStub.errors = { 'internetHeaders.setAsync': { code: 9020, message: 'Quota reached' } }; });
    await page.evaluate(() => window.__officeStub.controls.setRecipients('cc', [{ emailAddress: 'bo@example.net' }]));
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /could not be updated \(.*Quota reached\), so it was removed/);
    assert.deepEqual(await itemHeaders(page), {});
    await context.close();
  });

  test('an external address that cannot be used blocks marking and sending entirely', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }, { emailAddress: 'a=b@example.net' }], mailboxVersion: '1.15' });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /unusable address\. Nothing was sent/);
    const calls = await stubCalls(page);
    assert.deepEqual(calls.headers, []);
    assert.equal(calls.sends, 0);
    await context.close();
  });

  test('Outlook refusing the header: shown, nothing sent, and no number remembered', async () => {
    const { page, context } = await openPane({
      to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15',
      errors: { 'internetHeaders.setAsync': { code: 9020, name: 'GenericResponseError', message: 'The headers could not be saved.' } },
    });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'error');
    assert.equal(await status(page).textContent(), 'Outlook could not mark the message as secure: The headers could not be saved. Nothing was sent.');
    assert.equal((await stubCalls(page)).sends, 0);
    assert.equal(await page.evaluate(() => localStorage.getItem('securemailbox.phone.anna@example.org')), null);
    assert.equal(await page.getByRole('button', { name: 'Send secure' }).isEnabled(), true, 'the user can try again');
    await context.close();
  });

  test('premium-rate numbers are refused and block sending', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15' });
    await page.getByLabel('Mobile number for anna@example.org').fill('+1 900 555 0123');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'error');
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'This is not a valid mobile number.');
    assert.equal((await stubCalls(page)).sends, 0);
    await context.close();
  });

  test('the portal has no gateway key: nothing is marked, and the user is told to ask the administrator', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15' }, {
      routes: { '/addin/config.json': (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...config, gatewayRecipient: null }) }) },
    });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /gateway’s key is missing/);
    assert.deepEqual((await stubCalls(page)).headers, []);
    await context.close();
  });
});

describe('pinned pane', () => {
  test('ItemChanged: the pane re-binds to the new draft and acts on it only', async () => {
    const { page, context, errors } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15' });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.evaluate(() => { window.__firstItem = window.__officeStub.controls.item(); });
    await page.evaluate(() => window.__officeStub.controls.switchItem({ to: [{ emailAddress: 'bo@example.net' }] }));
    await page.getByLabel('Mobile number for bo@example.net').waitFor();
    assert.equal(await page.getByLabel('Mobile number for anna@example.org').count(), 0);
    await page.getByLabel('Mobile number for bo@example.net').fill('+358401234567');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    const { sent } = await stubCalls(page);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].recipients, 'bo@example.net');
    assert.equal(openSealed(sent[0].headers['X-SecureMailbox-Sealed']), 'bo@example.net=+358401234567');
    assert.deepEqual(await page.evaluate(() => window.__firstItem.__state.headers), {}, 'the first draft is untouched');

    // Recipient events of the old item no longer reach the pane; the new one's do.
    await page.evaluate(() => window.__officeStub.controls.switchItem(null));
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /Open a message you are writing/);
    assert.equal(await page.getByRole('button', { name: 'Send secure' }).isDisabled(), true);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('clear failures in the user language', () => {
  test('no item (read mode or nothing selected), Swedish', async () => {
    const { page, context } = await openPane({ noItem: true, mailboxVersion: '1.15', displayLanguage: 'sv-SE' }, { wait: false });
    await waitState(page, 'error');
    assert.match(await status(page).textContent(), /^Öppna ett meddelande som du skriver/);
    assert.equal(await page.getByRole('button', { name: 'Skicka säkert' }).isDisabled(), true);
    await context.close();
  });

  test('the pane script cannot run: a message in both languages is already on the page', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }] }, {
      wait: false, routes: { '/addin/taskpane.js': (route) => route.fulfill({ status: 404, body: '' }) },
    });
    await page.waitForLoadState('load');
    const message = page.locator('#script-missing');
    assert.equal(await message.isVisible(), true);
    assert.match(await message.locator('p[lang=sv]').textContent(), /SecureMailbox kunde inte starta/);
    assert.match(await message.locator('p[lang=en]').textContent(), /SecureMailbox could not start/);
    await context.close();
  });

  test('Office.js did not load', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 600 } });
    await context.route(OFFICE_JS, (route) => route.fulfill({ status: 404, body: '' }));
    const page = await context.newPage();
    await page.goto(`${server.origin}/addin/taskpane.html`);
    await waitState(page, 'error');
    assert.equal(await status(page).textContent(), 'Office.js did not load. Open this pane from Outlook.');
    assert.equal(await page.locator('#script-missing').count(), 0);
    await context.close();
  });

  test('Office.js did not load, Swedish browser: heading and message in one language', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 600 }, locale: 'sv-SE' });
    await context.route(OFFICE_JS, (route) => route.fulfill({ status: 404, body: '' }));
    const page = await context.newPage();
    await page.goto(`${server.origin}/addin/taskpane.html`);
    await waitState(page, 'error');
    assert.equal(await status(page).textContent(), 'Office.js lästes inte in. Öppna fönstret från Outlook.');
    assert.equal(await page.locator('h1').textContent(), 'Skicka säkert');
    assert.equal(await page.getAttribute('html', 'lang'), 'sv');
    await context.close();
  });

  test('settings that cannot be loaded are reported and nothing can be sent', async () => {
    server.state.failConfig = true;
    try {
      const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }] }, { wait: false });
      await waitState(page, 'error');
      assert.equal(await status(page).textContent(), 'Could not load the SecureMailbox settings: HTTP 503.');
      assert.equal(await page.getByRole('button', { name: 'Send secure' }).isDisabled(), true);
      await context.close();
    } finally {
      server.state.failConfig = false;
    }
  });

  test('the page asked for nothing outside its own origin except office.js', () => {
    assert.deepEqual(external, []);
    assert.ok(server.requests.includes('/addin/config.json'));
    assert.ok(server.requests.includes('/addin/vendor/libphonenumber-mobile.js'));
    assert.ok(server.requests.includes('/addin/vendor/age-encryption.js'));
  });
});

test('the test server sends the same Content-Security-Policy as the portal', () => {
  const portal = readFileSync(new URL('../../portal/Addin/AddinEndpoints.cs', import.meta.url), 'utf8');
  const match = portal.match(/ContentSecurityPolicy =\s*"([^"]+)"/);
  assert.ok(match, 'ContentSecurityPolicy constant not found in portal/Addin/AddinEndpoints.cs');
  assert.equal(match[1], CONTENT_SECURITY_POLICY);
});

describe('task pane Graph lookup in Chromium', () => {
  const signIn = {
    clientId: 'd2c1b0a9-8f7e-4d6c-b5a4-93827160f5e4',
    authority: 'https://login.microsoftonline.com/7f1c2a94-5b1e-4a43-9a0e-0c6a1d2b3c4d',
    apiScope: 'api://3b8e6f21-9d4c-4e7a-b1f2-6a5c4d3e2f10/access_as_user',
  };
  const lookupRoutes = (api) => ({
    '/addin/config.json': (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...config, graphLookup: true, signIn }) }),
    '/addin/api/phones': api,
  });

  test('numbers found are pre-filled into empty fields; remembered ones are not asked for', async () => {
    const asked = [];
    const { page, context, errors } = await openPane(
      { ...recipients, mailboxVersion: '1.15', nestedAppAuth: true },
      {
        storage: { 'securemailbox.phone.bo@example.net': '+358401234567' },
        msal: { token: 'api-token' },
        routes: lookupRoutes((route) => {
          asked.push({ body: JSON.parse(route.request().postData()), authorization: route.request().headers().authorization });
          return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ phones: { 'anna@example.org': '+46701234567', 'stranger@elsewhere.se': '+46709999999' } }) });
        }),
      },
    );
    const anna = page.getByLabel('Mobile number for anna@example.org');
    await page.waitForFunction(() => document.querySelector('#phone-0')?.value !== '');
    assert.equal(await anna.inputValue(), '+46701234567');
    assert.equal(await page.locator('#phone-0-hint').textContent(), 'Filled in from your contacts or the directory; check it.');
    assert.equal(await page.getByLabel('Mobile number for cecilia@example.com').inputValue(), '');
    assert.deepEqual(asked, [{ body: { addresses: ['anna@example.org', 'cecilia@example.com'] }, authorization: 'Bearer api-token' }]);
    const msalCalls = await page.evaluate(() => window.__msalCalls);
    assert.deepEqual(msalCalls[0].config.auth, { clientId: signIn.clientId, authority: signIn.authority });
    assert.deepEqual(msalCalls[1], { silent: { scopes: [signIn.apiScope] } });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('without NestedAppAuth 1.1 there is no sign-in at all, and the pane works', async () => {
    let apiCalls = 0;
    const { page, context } = await openPane(
      { to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15', nestedAppAuth: false },
      { msal: { token: 'api-token' }, routes: lookupRoutes((route) => { apiCalls++; return route.fulfill({ status: 500 }); }) },
    );
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    assert.deepEqual(await page.evaluate(() => window.__msalCalls), []);
    assert.equal(apiCalls, 0);
    assert.equal(await page.locator('#sign-in').isHidden(), true);
    await context.close();
  });

  test('silent sign-in not possible: no popup until the user asks; after a cancel, none on later changes', async () => {
    let apiCalls = 0;
    const { page, context, errors } = await openPane(
      { to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15', nestedAppAuth: true },
      { msal: { silent: { error: 'interaction_required' }, popup: { error: 'user_cancelled' } }, routes: lookupRoutes((route) => { apiCalls++; return route.fulfill({ status: 500 }); }) },
    );
    const signInButton = page.getByRole('button', { name: 'Sign in to look up numbers' });
    await signInButton.waitFor();
    const popups = () => page.evaluate(() => window.__msalCalls.filter((c) => c.popup).length);
    for (const address of ['b1@example.net', 'b2@example.net', 'b3@example.net']) {
      await page.evaluate((a) => window.__officeStub.controls.setRecipients('cc', [{ emailAddress: a }]), address);
      await page.getByLabel(`Mobile number for ${address}`).waitFor();
    }
    assert.equal(await popups(), 0, 'recipient changes never open a popup');

    await signInButton.click();
    await page.waitForFunction(() => window.__msalCalls.some((c) => c.popup));
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('Could not sign in'));
    assert.equal(await popups(), 1);
    await page.evaluate(() => window.__officeStub.controls.setRecipients('cc', [{ emailAddress: 'b4@example.net' }]));
    await page.getByLabel('Mobile number for b4@example.net').waitFor();
    await page.waitForTimeout(200);
    assert.equal(await popups(), 1, 'no popup after the cancel until the user asks again');
    assert.equal(apiCalls, 0);

    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByLabel('Mobile number for b4@example.net').fill('+358401234567');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await waitState(page, 'done');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a look-up answering during a send changes nothing that is sent', async () => {
    let release;
    const answered = new Promise((resolve) => { release = resolve; });
    const { page, context } = await openPane(
      { to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15', nestedAppAuth: true, delayMs: 50 },
      {
        msal: { token: 'api-token' },
        routes: lookupRoutes(async (route) => {
          await answered;
          return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ phones: { 'anna@example.org': '+46709999999' } }) });
        }),
      },
    );
    const anna = page.getByLabel('Mobile number for anna@example.org');
    await anna.fill('070-123 45 67');
    await page.evaluate(() => {
      window.__states = [];
      const status = document.querySelector('#status');
      new MutationObserver(() => window.__states.push(`${status.dataset.state}:${status.textContent}`))
        .observe(status, { attributes: true, childList: true, characterData: true, subtree: true });
    });
    await page.getByRole('button', { name: 'Send secure' }).click();
    release();
    await waitState(page, 'done');
    await page.waitForTimeout(300);
    assert.equal(await anna.inputValue(), '070-123 45 67');
    const states = await page.evaluate(() => window.__states);
    assert.ok(!states.some((s) => s.startsWith('idle')), `the look-up did not touch the pane during the send: ${states.join(' | ')}`);
    assert.equal(await status(page).textContent(), 'The message was sent securely.');
    const { sent } = await stubCalls(page);
    assert.equal(openSealed(sent[0].headers['X-SecureMailbox-Sealed']), 'anna@example.org=+46701234567');
    await context.close();
  });

  test('API answers 401: a message, and manual entry stays', async () => {
    const { page, context } = await openPane(
      { to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15', displayLanguage: 'sv-SE', nestedAppAuth: true },
      { msal: { token: 'expired' }, routes: lookupRoutes((route) => route.fulfill({ status: 401, contentType: 'application/problem+json', body: '{}' })) },
    );
    await waitState(page, 'error');
    assert.equal(await status(page).textContent(), 'Du får inte slå upp mobilnummer (inloggningen nekades). Fyll i dem själv.');
    assert.equal(await page.locator('#phone-0').inputValue(), '');
    await context.close();
  });
});
