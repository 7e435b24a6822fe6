// The recipient's path in a real Chromium (Debian's), driven with playwright-core from addin/node_modules.
// Run by tests/SecureMailbox.Portal.Tests/EndToEnd/BrowserTests.cs against the real gateway and portal processes.
// Input (environment): BASE_URL, TOKEN, SMS_DIR, PASSWORD, WIDTH, HEIGHT, SHOTS (file prefix), CHROMIUM_PATH.
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
const shots = env.SHOTS;
mkdirSync(dirname(shots), { recursive: true });

const result = { dialogs: [], xssConsole: [], external: [], steps: [], markReadPosts: 0 };
const browser = await chromium.launch({
  executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

function fail(message) {
  throw new Error(message);
}

try {
  const context = await browser.newContext({ viewport: { width, height }, serviceWorkers: 'block', locale: 'sv-SE' });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('about:')) {
      return route.continue();
    }
    result.external.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('dialog', async (dialog) => { result.dialogs.push(dialog.message()); await dialog.dismiss(); });
  page.on('console', (message) => { if (message.text().includes('XSS')) result.xssConsole.push(message.text()); });
  page.on('request', (request) => { if (request.method() === 'POST' && request.url().includes('handler=MarkRead')) result.markReadPosts += 1; });
  const shot = async (name) => { await page.screenshot({ path: `${shots}-${name}.png`, fullPage: true }); result.steps.push(name); };

  await page.goto(`${base}/l/${env.TOKEN}`);
  await shot('1-link');
  await Promise.all([page.waitForURL(`${base}/verify`), page.getByRole('button', { name: 'Öppna meddelandet' }).click()]);
  result.maskedPhoneShown = (await page.textContent('main')).includes('*** **');
  await shot('2-verify');

  await page.getByRole('button', { name: 'Skicka kod' }).click();
  await page.waitForLoadState();
  const sms = readdirSync(env.SMS_DIR).filter((f) => f.endsWith('.txt')).sort().pop();
  const code = readFileSync(join(env.SMS_DIR, sms), 'utf8').match(/\b\d{6}\b/)[0];
  await page.getByLabel('Kod från SMS (6 siffror)').fill(code);
  await Promise.all([page.waitForURL(`${base}/welcome`), page.getByRole('button', { name: 'Bekräfta' }).click()]);
  await shot('3-welcome');

  await page.getByLabel('Välj ett lösenord').fill(env.PASSWORD);
  await page.getByLabel('Upprepa lösenordet').fill(env.PASSWORD);
  await Promise.all([page.waitForURL(/\/mailbox\/m\//), page.getByRole('button', { name: 'Skapa konto och läs meddelandet' }).click()]);
  const messageUrl = page.url();
  const frameElement = await page.waitForSelector('iframe.body');
  const frame = await frameElement.contentFrame();
  await frame.waitForLoadState();
  result.frameSandbox = await frameElement.getAttribute('sandbox');
  result.frameText = (await frame.textContent('body')).trim();
  result.frameScripts = await frame.evaluate(() => document.querySelectorAll('script').length);
  result.frameHandlers = await frame.evaluate(() => [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length);
  result.title = await page.title();
  await page.waitForTimeout(500); // give anything that could run a moment to run
  // read.js posts "mark read" once the page has loaded (a GET changes nothing) and hides the button.
  await page.waitForSelector('#mark-read', { state: 'detached', timeout: 5000 }).catch(() => {});
  result.markReadHidden = (await page.locator('#mark-read').count()) === 0;
  await shot('4-message');

  await page.goto(`${base}/mailbox`);
  result.noHorizontalScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await page.keyboard.press('Tab');
  result.firstTabStop = await page.evaluate(() => document.activeElement?.textContent?.trim());
  result.lang = await page.getAttribute('html', 'lang');
  result.unreadRows = await page.locator('tr.unread').count();
  await shot('5-inbox');

  await page.goto(messageUrl);
  await page.getByRole('link', { name: 'Svara', exact: true }).click();
  await page.getByLabel('Ditt svar').fill('Tack, jag har läst.');
  await shot('6-reply');
  await Promise.all([page.waitForURL(/\/mailbox\/sent/), page.getByRole('button', { name: 'Skicka säkert' }).click()]);
  result.sentListed = (await page.textContent('main')).includes('Re: Provsvar');
  await shot('7-sent');
  await context.close();
  console.log(JSON.stringify(result));
} catch (error) {
  console.log(JSON.stringify({ ...result, error: String(error?.stack || error) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
