// The files under web/ as the portal serves them: local only, relative URLs, vendored library current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../web/', import.meta.url));
const OFFICE_JS = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';
const own = readdirSync(web).filter((name) => /\.(html|js|css)$/.test(name));

test('Office.js from Microsoft is the only external URL the pages load', () => {
  assert.ok(own.includes('taskpane.html') && own.includes('taskpane.js'));
  for (const name of own) {
    const text = readFileSync(`${web}${name}`, 'utf8');
    const urls = [...text.matchAll(/(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)/g)].map((m) => m[1] ?? m[2]);
    for (const url of urls) {
      if (url === OFFICE_JS) continue;
      assert.doesNotMatch(url, /^(?:[a-z]+:)?\/\//i, `${name} loads ${url}`);
      assert.doesNotMatch(url, /^\//, `${name} uses the absolute path ${url}; relative paths keep it working under /addin/`);
    }
    assert.doesNotMatch(text, /\bimport\s*\(?\s*["'](?:https?:)?\/\//, `${name} imports from another origin`);
    assert.doesNotMatch(text, /fetch\(\s*["']\//, `${name} fetches an absolute path`);
  }
});

test('no inline script or style that the Content-Security-Policy would block', () => {
  for (const name of own.filter((n) => n.endsWith('.html'))) {
    const text = readFileSync(`${web}${name}`, 'utf8');
    for (const [tag] of text.matchAll(/<script\b[^>]*>[\s\S]*?<\/script>/g)) {
      assert.match(tag, /^<script[^>]*\bsrc=/, `${name} has an inline script`);
      assert.match(tag, /^<script[^>]*>\s*<\/script>$/, `${name} has a script with both src and content`);
    }
    assert.doesNotMatch(text, /\son[a-z]+\s*=/i, `${name} has an inline event handler`);
  }
});

test('the vendored libphonenumber-js bundle is the installed version', () => {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('libphonenumber-js/package.json');
  const installed = readFileSync(new URL('bundle/libphonenumber-mobile.js', `file://${packageJson}`), 'utf8');
  const vendored = readFileSync(`${web}vendor/libphonenumber-mobile.js`, 'utf8');
  assert.ok(vendored === installed, 'web/vendor/libphonenumber-mobile.js differs from node_modules: run `npm run vendor` and commit it');
});

test('dev dependencies are pinned to exact versions', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  for (const name of ['office-addin-mock', 'libphonenumber-js', 'playwright-core', 'age-encryption', 'esbuild', '@types/office-js']) {
    assert.match(pkg.devDependencies[name] ?? '', /^\d+\.\d+\.\d+$/, name);
  }
});

test('the vendored age-encryption bundle is what the installed package builds to', async () => {
  const { build } = await import('esbuild');
  const vendored = readFileSync(`${web}vendor/age-encryption.js`, 'utf8');
  const out = await build({
    entryPoints: [fileURLToPath(new URL('../scripts/age-entry.mjs', import.meta.url))],
    bundle: true, format: 'esm', target: 'es2020', legalComments: 'inline', write: false, logLevel: 'silent',
  });
  const fresh = out.outputFiles[0].text;
  assert.ok(vendored.endsWith(fresh), 'web/vendor/age-encryption.js differs from node_modules: run `npm run vendor` and commit it');
  assert.match(vendored, /^\/\/ age-encryption \d+\.\d+\.\d+ /);
});
