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

// age-encryption (typage, by age's author) as one ES module: the pane seals recipients' numbers to the
// gateway's key with it. Bundled with esbuild because its own files import @noble/* by bare name.
const ageDir = fileURLToPath(new URL('../node_modules/age-encryption/', import.meta.url));
const ageVersion = JSON.parse(readFileSync(`${ageDir}package.json`, 'utf8')).version;
const { build } = await import('esbuild');
await build({
  entryPoints: [fileURLToPath(new URL('./age-entry.mjs', import.meta.url))],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  legalComments: 'inline',
  banner: { js: `// age-encryption ${ageVersion} (https://github.com/FiloSottile/typage) with @noble/* and @scure/base, bundled by scripts/vendor.mjs.` },
  outfile: `${target}age-encryption.js`,
  logLevel: 'warning',
});
copyFileSync(`${ageDir}LICENSE`, `${target}age-encryption.LICENSE.txt`);
console.log(`vendored age-encryption ${ageVersion} into web/vendor/`);
