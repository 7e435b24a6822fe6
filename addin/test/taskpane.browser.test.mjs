// The task pane in a real Chromium, served over HTTP under /addin/, with a stub office.js.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CONTENT_SECURITY_POLICY, startStaticServer } from './helpers/static-server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OFFICE_JS = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';
const repo = fileURLToPath(new URL('../../', import.meta.url));
const screenshots = `${repo}artifacts/screenshots/`;
const stubSource = readFileSync(new URL('./fixtures/office-stub.js', import.meta.url), 'utf8');

const config = {
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
});

/** A fresh page: stub office.js routed in, every other non-local request blocked and noted. */
async function openPane(stub, { width = 320, height = 720, storage = {}, routes = {}, msal = null } = {}) {
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
  await context.addInitScript(({ stub, storage }) => {
    window.__officeStub = stub;
    for (const [key, value] of Object.entries(storage)) window.localStorage.setItem(key, value);
  }, { stub, storage });
  // Stands in for MSAL.js's nestable client (Outlook's broker is not there): tokens or a refusal.
  if (msal) {
    await context.addInitScript((answer) => {
      const reply = () => (answer.token ? Promise.resolve({ accessToken: answer.token }) : Promise.reject(new Error(answer.error)));
      window.__msalCalls = [];
      window.msal = {
        createNestablePublicClientApplication: async (config) => {
          window.__msalCalls.push({ config });
          return {
            acquireTokenSilent: (request) => { window.__msalCalls.push({ silent: request }); return reply(); },
            acquireTokenPopup: (request) => { window.__msalCalls.push({ popup: request }); return reply(); },
          };
        },
      };
    }, msal);
  }
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.origin}/addin/taskpane.html`);
  await page.waitForSelector('#recipient-list li, #recipients-empty:not([hidden])');
  return { page, context, errors };
}
const stubCalls = (page) => page.evaluate(() => window.__officeStub.calls);
const status = (page) => page.locator('#status');

describe('task pane in Chromium', () => {
  test('external recipients need a valid number; Send secure sets the headers and sends (320 px)', async () => {
    const { page, context, errors } = await openPane(
      { ...recipients, mailboxVersion: '1.15', displayLanguage: 'en-US' },
      { storage: { 'securemailbox.phone.bo@example.net': '+358401234567' } },
    );
    assert.equal(await page.locator('#recipient-list li').count(), 5);
    assert.equal(await page.locator('#recipient-list li.external').count(), 3);
    assert.equal(await page.locator('input[type=tel]').count(), 3, 'one phone field per external recipient');

    // Labels are tied to the inputs; the remembered number is pre-filled.
    const anna = page.getByLabel('Mobile number for anna@example.org');
    const bo = page.getByLabel('Mobile number for bo@example.net');
    const cecilia = page.getByLabel('Mobile number for cecilia@example.com');
    assert.equal(await bo.inputValue(), '+358401234567');
    assert.equal(await anna.inputValue(), '');

    // Sending with a missing number is blocked, with the message next to the field.
    await page.getByRole('button', { name: 'Send secure' }).click();
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
    assert.match(await status(page).textContent(), /Check the mobile numbers marked below \(2\)/);
    assert.equal(await anna.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'Enter a mobile number.');
    assert.ok(await anna.evaluate((el) => el === document.activeElement), 'focus moves to the first bad field');
    assert.deepEqual((await stubCalls(page)).headers, []);

    // Validation as you type: letters refused, then a Swedish local number normalised.
    await anna.fill('07O-123 45 67');
    await anna.blur();
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'Use only digits, spaces, +, - and parentheses.');
    await anna.fill('070-123 45 67');
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'Will be sent as +46701234567.');
    assert.match(await status(page).textContent(), /\(1\)/, 'one field left to fix');
    assert.equal(await anna.getAttribute('aria-invalid'), 'false');

    // Keyboard only: type the last number, Tab to the button (focus visible), press Enter.
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
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
    assert.equal(await status(page).textContent(), 'The message was sent securely.');
    await page.screenshot({ path: `${screenshots}addin-taskpane.png`, fullPage: true });

    const calls = await stubCalls(page);
    assert.deepEqual(calls.headers, [{
      'X-SecureMailbox': 'secure',
      'X-SecureMailbox-Phone': 'anna@example.org=+46701234567, bo@example.net=+358401234567, cecilia@example.com=+46739876543',
    }]);
    assert.equal(calls.sends, 1);
    assert.deepEqual(calls.subjects, []);
    assert.equal(await page.evaluate(() => localStorage.getItem('securemailbox.phone.anna@example.org')), '+46701234567');

    // Narrow pane: nothing overflows sideways.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'horizontal overflow at 320 px');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Mailbox 1.8 without sendAsync: headers set, user told to press Send (wide pane)', async () => {
    const { page, context, errors } = await openPane({ ...recipients, mailboxVersion: '1.8' }, { width: 800, height: 900 });
    await page.getByLabel('Mobile number for anna@example.org').fill('+46 70 123 45 67');
    await page.getByLabel('Mobile number for bo@example.net').fill('+358 40 123 4567');
    await page.getByLabel('Mobile number for cecilia@example.com').fill('0739876543');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
    assert.equal(await status(page).textContent(), 'The message is marked as secure. Press Send in Outlook to send it.');
    const calls = await stubCalls(page);
    assert.equal(calls.headers.length, 1);
    assert.equal(calls.headers[0]['X-SecureMailbox-Phone'],
      'anna@example.org=+46701234567, bo@example.net=+358401234567, cecilia@example.com=+46739876543');
    assert.equal(calls.sends, 0);
    await page.screenshot({ path: `${screenshots}addin-taskpane-wide.png`, fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('premium-rate numbers are refused and block sending', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15' });
    const anna = page.getByLabel('Mobile number for anna@example.org');
    await anna.fill('+1 900 555 0123');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
    assert.equal(await page.locator('#phone-0-msg').textContent(), 'This is not a valid mobile number.');
    const calls = await stubCalls(page);
    assert.deepEqual(calls.headers, []);
    assert.equal(calls.sends, 0);
    await context.close();
  });

  test('an error from internetHeaders.setAsync is shown and nothing is sent', async () => {
    const { page, context } = await openPane({
      to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15',
      headersError: { code: 9020, name: 'GenericResponseError', message: 'The headers could not be saved.' },
    });
    await page.getByLabel('Mobile number for anna@example.org').fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
    assert.equal(await status(page).textContent(),
      'Outlook could not mark the message as secure: The headers could not be saved. Nothing was sent.');
    assert.equal((await stubCalls(page)).sends, 0);
    assert.equal(await page.getByRole('button', { name: 'Send secure' }).isEnabled(), true, 'the user can try again');
    await context.close();
  });

  test('Swedish Outlook without Mailbox 1.8: subject keyword fallback, added once', async () => {
    const { page, context, errors } = await openPane({ ...recipients, mailboxVersion: '1.7', displayLanguage: 'sv-SE', subject: 'Remiss' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'sv');
    assert.equal(await page.locator('h1').textContent(), 'Skicka säkert');
    assert.match(await page.locator('#fallback-notice').textContent(), /”\[secure\]” läggs till i ämnesraden/);
    assert.equal(await page.locator('input[type=tel]').count(), 0, 'numbers cannot travel without internet headers');
    assert.doesNotMatch(await page.locator('#intro').textContent(), /Ange ett mobilnummer/);
    const button = page.getByRole('button', { name: 'Skicka säkert' });
    await button.click();
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
    assert.equal(await status(page).textContent(), '”[secure]” lades till i ämnesraden. Tryck på Skicka i Outlook för att skicka meddelandet.');
    await button.click();
    await page.waitForFunction(() => window.__officeStub.calls.order.filter((c) => c === 'subject.getAsync').length === 2);
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
    const calls = await stubCalls(page);
    assert.deepEqual(calls.subjects, ['[secure] Remiss']);
    assert.equal(await page.evaluate(() => window.__officeStub.currentSubject()), '[secure] Remiss');
    await page.screenshot({ path: `${screenshots}addin-taskpane-sv-fallback.png`, fullPage: true });
    assert.deepEqual(calls.headers, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('recipients added while the pane is open get a phone field', async () => {
    const { page, context } = await openPane({ to: [{ emailAddress: 'kollega@example.se' }], mailboxVersion: '1.8' });
    assert.equal(await page.locator('input[type=tel]').count(), 0);
    assert.match(await page.locator('#recipients-empty').textContent(), /All recipients are in your organisation/);
    await page.evaluate(() => window.__officeStub.setRecipients('cc', [{ emailAddress: 'dan@example.org', displayName: 'Dan' }]));
    await page.getByLabel('Mobile number for dan@example.org').waitFor();
    assert.equal(await page.locator('#recipients-empty').isHidden(), true);
    await context.close();
  });

  test('settings that cannot be loaded are reported and nothing can be sent', async () => {
    server.state.failConfig = true;
    try {
      const context = await browser.newContext({ viewport: { width: 320, height: 600 } });
      await context.route(OFFICE_JS, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: stubSource }));
      await context.addInitScript((stub) => { window.__officeStub = stub; }, { to: [{ emailAddress: 'anna@example.org' }] });
      const page = await context.newPage();
      await page.goto(`${server.origin}/addin/taskpane.html`);
      await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
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
      { ...recipients, mailboxVersion: '1.15', displayLanguage: 'en-US' },
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
    assert.equal(await page.getByLabel('Mobile number for bo@example.net').inputValue(), '+358401234567');
    assert.equal(await page.getByLabel('Mobile number for cecilia@example.com').inputValue(), '');
    assert.deepEqual(asked, [{ body: { addresses: ['anna@example.org', 'cecilia@example.com'] }, authorization: 'Bearer api-token' }]);
    const msalCalls = await page.evaluate(() => window.__msalCalls);
    assert.deepEqual(msalCalls[0].config.auth, { clientId: signIn.clientId, authority: signIn.authority });
    assert.deepEqual(msalCalls[1], { silent: { scopes: [signIn.apiScope] } });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('sign-in refused: fields stay empty, a message says so, and manual entry still sends', async () => {
    let apiCalls = 0;
    const { page, context, errors } = await openPane(
      { to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15', displayLanguage: 'en-US' },
      { msal: { error: 'user_cancelled' }, routes: lookupRoutes((route) => { apiCalls++; return route.fulfill({ status: 500 }); }) },
    );
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
    assert.equal(await status(page).textContent(), 'Could not sign in to look up mobile numbers. Enter them yourself.');
    assert.equal(apiCalls, 0);
    const anna = page.getByLabel('Mobile number for anna@example.org');
    assert.equal(await anna.inputValue(), '');
    await anna.fill('070-123 45 67');
    await page.getByRole('button', { name: 'Send secure' }).click();
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
    assert.deepEqual((await stubCalls(page)).headers, [{ 'X-SecureMailbox': 'secure', 'X-SecureMailbox-Phone': 'anna@example.org=+46701234567' }]);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('API answers 401: a message, and what the user typed meanwhile is kept', async () => {
    const { page, context } = await openPane(
      { to: [{ emailAddress: 'anna@example.org' }], mailboxVersion: '1.15', displayLanguage: 'sv-SE' },
      { msal: { token: 'expired' }, routes: lookupRoutes((route) => route.fulfill({ status: 401, contentType: 'application/problem+json', body: '{}' })) },
    );
    await page.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
    assert.equal(await status(page).textContent(), 'Du får inte slå upp mobilnummer (inloggningen nekades). Fyll i dem själv.');
    assert.equal(await page.locator('#phone-0').inputValue(), '');
    await context.close();
  });
});
