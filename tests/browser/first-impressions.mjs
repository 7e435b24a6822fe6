// A new recipient whose browser speaks English and lives in another time zone, in a real Chromium (Debian's), driven
// with playwright-core from addin/node_modules. Run by tests/SecureMailbox.Portal.Tests/EndToEnd/BrowserTests.cs
// against the real gateway and portal processes, at 375 px and 1280 px.
// Input (environment): BASE_URL, TOKEN, SMS_DIR, PASSWORD, WIDTH, HEIGHT, SHOTS (file prefix), CHROMIUM_PATH, ZONE.
// Output: one JSON line with what was seen; exit code 1 with a message when a step fails.
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(repo, 'addin', 'package.json'));
const { chromium } = require('playwright-core');

const env = process.env;
const base = env.BASE_URL;
const width = Number(env.WIDTH || 1280);
const height = Number(env.HEIGHT || 900);
const zone = env.ZONE || 'America/New_York';
mkdirSync(dirname(env.SHOTS), { recursive: true });

// The sender's own words (name, body) are theirs, not the portal's: they are taken out before looking for Swedish.
const senderWords = [/Dr Sven Läkare/g, /Hej, dina provsvar är klara\.?/g];
const result = { swedishOn: [], wideOn: [], steps: [] };
const browser = await chromium.launch({
  executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

try {
  const context = await browser.newContext({ viewport: { width, height }, serviceWorkers: 'block', locale: 'en-US', timezoneId: zone });
  await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  const page = await context.newPage();
  const look = async (name) => {
    await page.screenshot({ path: `${env.SHOTS}-${name}.png`, fullPage: true });
    let text = await page.evaluate(() => document.body.innerText);
    for (const word of senderWords) text = text.replace(word, '');
    text = text.replace('Svenska', '');
    if (/[åäöÅÄÖ]/.test(text) || /\b(Skicka|Logga|Inkorg|Svara|meddelande)\b/.test(text)) result.swedishOn.push(`${name}: ${text.slice(0, 300)}`);
    if (await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)) result.wideOn.push(name);
    result.steps.push(name);
  };

  await page.goto(`${base}/l/${env.TOKEN}`);
  result.linkLang = await page.getAttribute('html', 'lang');
  await look('1-link');
  await Promise.all([page.waitForURL(`${base}/verify`), page.getByRole('button', { name: 'Open the message' }).click()]);
  await look('2-verify');
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.waitForLoadState();
  const sms = readdirSync(env.SMS_DIR).filter((f) => f.endsWith('.txt')).sort().pop();
  const code = readFileSync(join(env.SMS_DIR, sms), 'utf8').match(/\b\d{6}\b/)[0];
  await page.getByLabel('Code from the SMS (6 digits)').fill(code);
  await Promise.all([page.waitForURL(`${base}/welcome`), page.getByRole('button', { name: 'Verify' }).click()]);
  await look('3-welcome');
  await page.locator('#password').fill(env.PASSWORD);
  await page.locator('#confirm').fill(env.PASSWORD);
  await Promise.all([page.waitForURL(/\/mailbox\/m\//), page.getByRole('button', { name: 'Create account and read the message' }).click()]);
  await page.waitForSelector('iframe.body');
  await look('4-message');
  await page.getByRole('link', { name: 'Reply', exact: true }).click();
  await page.getByLabel('Your reply').fill('Thank you, I have read it.');
  await look('5-reply');
  await Promise.all([page.waitForURL(/\/mailbox\/sent\?done=sent/), page.getByRole('button', { name: 'Send securely' }).click()]);
  result.sentConfirmed = (await page.textContent('main')).includes('Your reply was sent securely.');
  await look('6-sent');

  // Times in the browser's zone: what the Security page shows equals the <time> instant formatted in that zone.
  await page.goto(`${base}/settings/security`);
  await page.goto(`${base}/settings/security`); // the zone cookie is set by the first page's script
  const times = await page.$$eval('td time', (nodes) => nodes.map((n) => ({ iso: n.getAttribute('datetime'), shown: n.textContent.trim() })));
  const expected = (iso) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
    return `${parts.day} ${parts.month} ${parts.year} ${parts.hour}:${parts.minute}`;
  };
  result.timesInZone = times.length > 0 && times.every((t) => t.shown === expected(t.iso));
  result.timesSample = times.slice(0, 2);
  // Stacked rows at narrow widths carry their column's name.
  result.labelShown = await page.$eval('table.sessions td[data-label]', (td) => getComputedStyle(td, '::before').content);
  await look('7-security');

  // The add-in page from the footer, in English, fits the width.
  await Promise.all([page.waitForURL(`${base}/outlook`), page.getByRole('link', { name: 'Outlook add-in' }).click()]);
  result.outlookShowsManifest = (await page.textContent('main')).includes('/addin/manifest.xml');
  await look('8-outlook');
  await page.goto(`${base}/settings/security`);

  // The switch on the page goes to Swedish and stays.
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Svenska' }).click()]);
  await page.goto(`${base}/settings`);
  result.switchedLang = await page.getAttribute('html', 'lang');
  result.settingsText = (await page.textContent('main')).replace(/\s+/g, ' ');
  await page.screenshot({ path: `${env.SHOTS}-9-settings-sv.png`, fullPage: true });
  // Emptying the trash asks first (Swedish now): move the message there, then the confirmation step.
  await page.goto(`${base}/mailbox`);
  await page.locator('table.list a').first().click();
  await Promise.all([page.waitForURL(/\/mailbox\?done=deleted/), page.getByRole('button', { name: 'Ta bort', exact: true }).click()]);
  result.deletedConfirmed = (await page.textContent('main')).includes('Meddelandet flyttades till papperskorgen.');
  await page.goto(`${base}/mailbox/trash`);
  await Promise.all([page.waitForURL(/confirm=empty/), page.getByRole('link', { name: 'Töm papperskorgen' }).click()]);
  result.emptyAsks = await page.getByRole('button', { name: 'Ja, töm papperskorgen' }).isVisible();
  result.trashFits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await page.screenshot({ path: `${env.SHOTS}-10-trash-confirm-sv.png`, fullPage: true });
  await Promise.all([page.waitForURL(/done=emptied/), page.getByRole('button', { name: 'Ja, töm papperskorgen' }).click()]);
  result.emptiedConfirmed = (await page.textContent('main')).includes('Papperskorgen tömdes.');
  await context.close();
  console.log(JSON.stringify(result));
} catch (error) {
  console.log(JSON.stringify({ ...result, error: String(error?.stack || error) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
