// Two-factor sign-in in a real Chromium (Debian's), driven with playwright-core from addin/node_modules: a new account
// turns 2FA on through the settings pages, signs out, signs in with password and app code, and adds a backup phone.
// Run by tests/SecureMailbox.Portal.Tests/EndToEnd/TwoFactorBrowserTests.cs against the real gateway and portal.
// The app codes come from the test (C#, the portal's own TOTP code): the script prints {"totpFor": secret} and reads
// the code as one line on stdin.
// Input (environment): BASE_URL, TOKEN, EMAIL, SMS_DIR, PASSWORD, BACKUP_PHONE, SHOTS (file prefix), CHROMIUM_PATH.
// Output: one JSON line with what was seen; exit code 1 with a message when a step fails.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(repo, 'addin', 'package.json'));
const { chromium } = require('playwright-core');

const env = process.env;
const base = env.BASE_URL;
const shots = env.SHOTS;
mkdirSync(dirname(shots), { recursive: true });

const lines = createInterface({ input: process.stdin });
const stdin = lines[Symbol.asyncIterator]();
async function appCode(secret) {
  console.log(JSON.stringify({ totpFor: secret }));
  const { value } = await stdin.next();
  return value.trim();
}

function latestSmsCode() {
  const sms = readdirSync(env.SMS_DIR).filter((f) => f.endsWith('.txt')).sort().pop();
  return readFileSync(join(env.SMS_DIR, sms), 'utf8').match(/\b\d{6}\b/)[0];
}

const result = { steps: [] };
const browser = await chromium.launch({
  executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block', locale: 'sv-SE' });
const page = await context.newPage();
try {
  const shot = async (name) => { await page.screenshot({ path: `${shots}-${name}.png`, fullPage: true }); result.steps.push(name); };

  // A new account, the recipient's way: link, SMS code, password.
  await page.goto(`${base}/l/${env.TOKEN}`);
  await Promise.all([page.waitForURL(`${base}/verify`), page.getByRole('button', { name: 'Öppna meddelandet' }).click()]);
  await page.getByRole('button', { name: 'Skicka kod' }).click();
  await page.waitForLoadState();
  await page.getByLabel('Kod från SMS (6 siffror)').fill(latestSmsCode());
  await Promise.all([page.waitForURL(`${base}/welcome`), page.getByRole('button', { name: 'Bekräfta' }).click()]);
  await page.getByLabel('Välj ett lösenord').fill(env.PASSWORD);
  await page.getByLabel('Upprepa lösenordet').fill(env.PASSWORD);
  await Promise.all([page.waitForURL(/\/mailbox\/m\//), page.getByRole('button', { name: 'Skapa konto och läs meddelandet' }).click()]);

  // Settings → the ID-kontroll panel (the FAQ's steps), its button names the action.
  await page.goto(`${base}/settings`);
  await Promise.all([page.waitForURL(`${base}/settings/two-factor`), page.getByRole('link', { name: 'Slå på tvåfaktorsinloggning' }).click()]);
  await page.getByLabel('Jag har installerat en autentiseringsapp').check();
  await page.getByLabel('Lösenord').fill(env.PASSWORD);
  await page.getByRole('button', { name: 'Skicka SMS-kod' }).click();
  await page.waitForLoadState();
  await page.getByLabel('Kod', { exact: true }).fill(latestSmsCode());
  await page.getByRole('button', { name: 'Bekräfta' }).click();
  await page.waitForSelector('code.secret');
  const secret = (await page.textContent('code.secret')).trim();
  result.secretGrouped = /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/.test(secret);
  await page.waitForFunction(() => document.querySelector('img.qr').complete);
  result.qrLoaded = await page.evaluate(() => document.querySelector('img.qr').naturalWidth > 0);
  await shot('1-qr');
  await page.getByLabel('Kod från din autentiseringsapp').fill(await appCode(secret.replaceAll(' ', '')));
  await page.getByRole('button', { name: 'Slå på tvåfaktorsinloggning' }).click();
  await page.waitForSelector('ol.codes');
  result.backupCodes = await page.locator('ol.codes li').count();
  result.backupPhoneLinked = (await page.locator('.warning a[href="/settings/phone"]').count()) === 1;
  await shot('2-backup-codes');

  // Sign out, then in again: password, then the app code.
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/settings')), page.getByRole('button', { name: 'Logga ut' }).click()]);
  await page.goto(`${base}/signin`);
  await page.getByLabel('E-postadress').fill(env.EMAIL);
  await page.getByLabel('Lösenord').fill(env.PASSWORD);
  await Promise.all([page.waitForURL(`${base}/signin/second-factor`), page.getByRole('button', { name: 'Logga in' }).click()]);
  await shot('3-second-factor');
  result.mailboxBeforeCode = (await (await page.request.get(`${base}/mailbox`, { maxRedirects: 0 })).status());
  await page.getByLabel('Kod från din autentiseringsapp').fill(await appCode(secret.replaceAll(' ', '')));
  await Promise.all([page.waitForURL(`${base}/mailbox`), page.getByRole('button', { name: 'Logga in' }).first().click()]);
  result.inbox = (await page.textContent('main')).includes('Provsvar');
  await shot('4-mailbox');

  // Settings → Mobile number: confirm it is you (password and app code), then a backup phone verified by SMS.
  await page.goto(`${base}/settings`);
  await Promise.all([page.waitForURL(`${base}/settings/phone`), page.getByRole('link', { name: 'Mobilnummer' }).click()]);
  await Promise.all([page.waitForURL(/\/settings\/confirm/), page.getByRole('link', { name: 'Bekräfta att det är du för att göra ändringar' }).click()]);
  await page.getByLabel('Lösenord').fill(env.PASSWORD);
  await page.getByLabel('Kod från din autentiseringsapp').fill(await appCode(secret.replaceAll(' ', '')));
  await Promise.all([page.waitForURL(`${base}/settings/phone`), page.getByRole('button', { name: 'Bekräfta' }).click()]);
  await page.getByLabel('Reservtelefonens nummer').fill(env.BACKUP_PHONE);
  await page.getByRole('button', { name: 'Lägg till reservtelefon' }).click();
  await page.getByLabel('Kod från SMS (6 siffror)').fill(latestSmsCode());
  await Promise.all([page.waitForURL(/done=BackupPhoneSaved/), page.getByRole('button', { name: 'Bekräfta' }).click()]);
  result.backupPhoneShown = (await page.textContent('main')).match(/Reservtelefon: (\S.*)/)?.[1]?.trim() ?? null;
  await shot('5-backup-phone');
  await page.setViewportSize({ width: 360, height: 800 });
  result.phonePageFits360 = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await shot('6-phone-360');
  await context.close();
  console.log(JSON.stringify(result));
} catch (error) {
  await page.screenshot({ path: `${shots}-failed.png`, fullPage: true }).catch(() => {});
  console.log(JSON.stringify({ ...result, error: String(error?.stack || error), url: page.url() }));
  process.exitCode = 1;
} finally {
  lines.close();
  process.stdin.destroy(); // the open pipe would keep node running
  await browser.close();
}
