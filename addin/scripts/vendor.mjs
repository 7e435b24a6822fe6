// Copies libphonenumber-js's browser bundle (mobile metadata) and MSAL.js's (@azure/msal-browser,
// nested app authentication for the Graph lookup) into web/vendor/ so the task pane loads them from
// its own origin. Runs on `npm ci` (postinstall) and before `npm test`.
// The copy is committed too, so the portal can serve web/ without running npm.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const packageDir = fileURLToPath(new URL('.', `file://${require.resolve('libphonenumber-js/package.json')}`));
const { version } = JSON.parse(readFileSync(`${packageDir}package.json`, 'utf8'));
const target = fileURLToPath(new URL('../web/vendor/', import.meta.url));
mkdirSync(target, { recursive: true });
copyFileSync(`${packageDir}bundle/libphonenumber-mobile.js`, `${target}libphonenumber-mobile.js`);
copyFileSync(`${packageDir}LICENSE`, `${target}libphonenumber-js.LICENSE.txt`);
console.log(`vendored libphonenumber-js ${version} (mobile metadata) into web/vendor/`);

const msalDir = fileURLToPath(new URL('.', `file://${require.resolve('@azure/msal-browser/package.json')}`));
const msalVersion = JSON.parse(readFileSync(`${msalDir}package.json`, 'utf8')).version;
copyFileSync(`${msalDir}lib/msal-browser.min.js`, `${target}msal-browser.min.js`);
copyFileSync(`${msalDir}LICENSE`, `${target}msal-browser.LICENSE.txt`);
console.log(`vendored @azure/msal-browser ${msalVersion} into web/vendor/`);
