// The sealed header: what the pane writes is a valid age file for
// the gateway's key, checked with the stock age tool; nobody else can read it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSecureHeaders, SEALED_HEADER } from '../web/headers.js';
import { isAgeRecipient, SealError, sealerFor, sealPhoneList } from '../web/seal.js';

let dir;
const run = (tool, args, input) => {
  const result = spawnSync(tool, args, { input });
  if (result.error?.code === 'ENOENT') assert.fail(`the stock ${tool} tool is needed (Debian package age)`);
  return result;
};
const newKey = (name) => {
  const file = join(dir, name);
  assert.equal(run('age-keygen', ['-o', file]).status, 0);
  return { file, recipient: run('age-keygen', ['-y', file]).stdout.toString().trim() };
};
const open = (value, keyFile) => run('age', ['-d', '-i', keyFile], Buffer.from(value.replace(/\s+/g, ''), 'base64'));

before(() => { dir = mkdtempSync(join(tmpdir(), 'smbx-seal-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const entries = [
  { address: 'anna@example.org', phone: '+46701234567' },
  { address: 'hemlig.bcc@example.net', phone: '+358401234567' },
];

test('the sealed header is an age file for the gateway key: the stock age tool opens it', async () => {
  const gateway = newKey('gateway.key');
  const headers = await buildSecureHeaders(entries, sealerFor(gateway.recipient));

  const value = headers[SEALED_HEADER];
  const opened = open(value, gateway.file);
  assert.equal(opened.status, 0, opened.stderr.toString());
  assert.equal(opened.stdout.toString(), 'anna@example.org=+46701234567, hemlig.bcc@example.net=+358401234567');
});

test('nothing about recipients is readable in the header: no address, no domain, no digits of a number', async () => {
  const gateway = newKey('gateway2.key');
  const headers = await buildSecureHeaders(entries, sealerFor(gateway.recipient));
  const all = JSON.stringify(headers);
  for (const needle of ['anna', 'example', 'hemlig', '46701234567', '358401234567', '@']) {
    assert.equal(all.includes(needle), false, `${needle} readable in ${all.slice(0, 120)}…`);
  }
  assert.deepEqual(Object.keys(headers).sort(), ['X-SecureMailbox', SEALED_HEADER].sort());
});

test('another key cannot open it', async () => {
  const gateway = newKey('gateway3.key');
  const intruder = newKey('intruder.key');
  const value = await sealPhoneList('anna@example.org=+46701234567', gateway.recipient);
  assert.notEqual(open(value, intruder.file).status, 0);
});

test('the value is base64 in groups of at most 76 characters, separated by single spaces (foldable, no CR/LF)', async () => {
  const gateway = newKey('gateway4.key');
  const many = Array.from({ length: 60 }, (_, i) => `person${i}@example.org=+4670123${String(i).padStart(4, '0')}`).join(', ');
  const value = await sealPhoneList(many, gateway.recipient);
  assert.match(value, /^[A-Za-z0-9+/=]{1,76}( [A-Za-z0-9+/=]{1,76})*$/);
  assert.ok(value.split(' ').slice(0, -1).every((group) => group.length === 76));
  assert.equal(open(value, gateway.file).stdout.toString(), many);
});

test('each sealing is fresh: the same list twice gives different values', async () => {
  const gateway = newKey('gateway5.key');
  const a = await sealPhoneList('anna@example.org=+46701234567', gateway.recipient);
  const b = await sealPhoneList('anna@example.org=+46701234567', gateway.recipient);
  assert.notEqual(a, b);
});

test('without a usable gateway key nothing is sealed (and nothing is written in clear)', async () => {
  for (const bad of [null, '', 'age1short', 'AGE1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGP', 'ssh-ed25519 AAAA']) {
    assert.equal(isAgeRecipient(bad), false, String(bad));
    await assert.rejects(sealPhoneList('anna@example.org=+46701234567', bad), SealError);
    await assert.rejects(buildSecureHeaders(entries, sealerFor(bad)), SealError);
  }
});
