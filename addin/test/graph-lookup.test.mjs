// The optional Graph lookup of the task pane: nested app authentication (a stand-in for MSAL.js's
// nestable client), the portal's API served by a real HTTP server on 127.0.0.1, and pre-filling
// that never overwrites what the user typed. Failures leave manual entry working, with a reason.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createTokenSource, lookUpPhones, prefillPhones } from '../web/graph-lookup.js';
import { parseConfig } from '../web/config.js';
import { texts } from '../web/i18n.js';

const signIn = {
  clientId: 'd2c1b0a9-8f7e-4d6c-b5a4-93827160f5e4',
  authority: 'https://login.microsoftonline.com/7f1c2a94-5b1e-4a43-9a0e-0c6a1d2b3c4d',
  apiScope: 'api://3b8e6f21-9d4c-4e7a-b1f2-6a5c4d3e2f10/access_as_user',
};

/** Stands in for globalThis.msal: records the configuration and the token requests. */
function fakeMsal({ silent = 'token-silent', popup = 'token-popup' } = {}) {
  const calls = { config: null, silent: [], popup: [] };
  const answer = (value) => (value instanceof Error ? Promise.reject(value) : Promise.resolve({ accessToken: value }));
  return {
    calls,
    async createNestablePublicClientApplication(config) {
      calls.config = config;
      return {
        acquireTokenSilent: (request) => { calls.silent.push(request); return answer(silent); },
        acquireTokenPopup: (request) => { calls.popup.push(request); return answer(popup); },
      };
    },
  };
}

let server;
let url;
const received = [];
const state = { status: 200, body: null };

before(async () => {
  server = createServer((request, response) => {
    let data = '';
    request.on('data', (chunk) => { data += chunk; });
    request.on('end', () => {
      received.push({ method: request.method, path: request.url, authorization: request.headers.authorization, body: data });
      const asked = JSON.parse(data).addresses;
      const body = state.body ?? {
        phones: {
          ...(asked.includes('anna@example.org') ? { 'anna@example.org': '+46701234567' } : {}),
          ...(asked.includes('bo@example.net') ? { 'bo@example.net': '+358401234567' } : {}),
          'stranger@elsewhere.se': '+46709999999', // not asked: must be ignored
          'cecilia@example.com': 'not a number',
        },
      };
      response.writeHead(state.status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${server.address().port}/addin/api/phones`;
});

after(() => new Promise((done) => server.close(done)));

const reset = () => { received.length = 0; state.status = 200; state.body = null; };
const input = (value = '') => ({ value });

describe('createTokenSource', () => {
  test('signs in with nested app authentication for the API scope, silently first', async () => {
    const msal = fakeMsal();
    const source = await createTokenSource(msal, signIn);

    assert.equal(await source.silent(), 'token-silent');
    assert.equal(await source.interactive(), 'token-silent', 'interactive tries silent first too');
    assert.deepEqual(msal.calls.config.auth, { clientId: signIn.clientId, authority: signIn.authority });
    assert.deepEqual(msal.calls.silent, [{ scopes: [signIn.apiScope] }, { scopes: [signIn.apiScope] }]);
    assert.equal(msal.calls.popup.length, 0);
  });

  test('silent never opens a popup; only interactive (the user asked) does', async () => {
    const msal = fakeMsal({ silent: new Error('InteractionRequiredAuthError: consent_required') });
    const source = await createTokenSource(msal, signIn);

    await assert.rejects(source.silent());
    await assert.rejects(source.silent());
    assert.equal(msal.calls.popup.length, 0, 'no popup without the user asking');
    assert.equal(await source.interactive(), 'token-popup');
    assert.equal(msal.calls.popup.length, 1);
  });
});

describe('lookUpPhones', () => {
  test('sends the addresses with the bearer token and keeps only numbers asked for', async () => {
    reset();
    const token = (await createTokenSource(fakeMsal(), signIn)).silent;

    const result = await lookUpPhones({ token, addresses: ['Anna@Example.org', 'bo@example.net', 'cecilia@example.com'], url });

    assert.deepEqual(result, { ok: true, phones: { 'anna@example.org': '+46701234567', 'bo@example.net': '+358401234567' }, failed: [] });
    assert.equal(received.length, 1);
    assert.equal(received[0].method, 'POST');
    assert.equal(received[0].authorization, 'Bearer token-silent');
    assert.deepEqual(JSON.parse(received[0].body), { addresses: ['anna@example.org', 'bo@example.net', 'cecilia@example.com'] });
  });

  test('sign-in refused: no request, reason signIn', async () => {
    reset();
    const token = (await createTokenSource(fakeMsal({ silent: new Error('no account'), popup: new Error('user_cancelled') }), signIn)).interactive;

    const result = await lookUpPhones({ token, addresses: ['anna@example.org'], url });

    assert.deepEqual(result, { ok: false, reason: 'signIn' });
    assert.equal(received.length, 0);
  });

  test('API answers 401: reason unauthorized', async () => {
    reset();
    state.status = 401;
    state.body = { title: 'Unauthorized' };
    const token = (await createTokenSource(fakeMsal(), signIn)).silent;

    assert.deepEqual(await lookUpPhones({ token, addresses: ['anna@example.org'], url }), { ok: false, reason: 'unauthorized' });
  });

  test('API answers 502 or cannot be reached: reason failed', async () => {
    reset();
    state.status = 502;
    const token = async () => 't';
    assert.deepEqual(await lookUpPhones({ token, addresses: ['anna@example.org'], url }), { ok: false, reason: 'failed' });
    assert.deepEqual(await lookUpPhones({ token, addresses: ['anna@example.org'], url: 'http://127.0.0.1:1/addin/api/phones' }), { ok: false, reason: 'failed' });
  });

  test('per-address failures are reported for addresses asked about only; 429 is reason busy', async () => {
    reset();
    state.body = { phones: { 'anna@example.org': '+46701234567' }, failed: ['Bo@Example.net', 'stranger@elsewhere.se'] };
    const token = async () => 't';
    assert.deepEqual(await lookUpPhones({ token, addresses: ['anna@example.org', 'bo@example.net'], url }),
      { ok: true, phones: { 'anna@example.org': '+46701234567' }, failed: ['bo@example.net'] });
    state.status = 429;
    assert.deepEqual(await lookUpPhones({ token, addresses: ['anna@example.org'], url }), { ok: false, reason: 'busy' });
  });

  test('no addresses: nothing is asked', async () => {
    reset();
    assert.deepEqual(await lookUpPhones({ token: async () => 't', addresses: [], url }), { ok: true, phones: {} });
    assert.equal(received.length, 0);
  });
});

describe('prefillPhones', () => {
  test('fills empty fields only, never what the user typed', () => {
    const fields = [
      { key: 'anna@example.org', input: input(), typed: false },
      { key: 'bo@example.net', input: input('040 123 4567'), typed: true },
      { key: 'cecilia@example.com', input: input(), typed: true }, // typed, then cleared
      { key: 'dan@example.com', input: input(), typed: false }, // not found
    ];

    const filled = prefillPhones(fields, { 'anna@example.org': '+46701234567', 'bo@example.net': '+358401234567', 'cecilia@example.com': '+46731234567' });

    assert.deepEqual(filled, ['anna@example.org']);
    assert.deepEqual(fields.map((f) => f.input.value), ['+46701234567', '040 123 4567', '', '']);
  });

  test('after a failed lookup the fields stay as they were (manual entry)', async () => {
    reset();
    state.status = 401;
    const fields = [{ key: 'anna@example.org', input: input('070'), typed: true }, { key: 'bo@example.net', input: input(), typed: false }];
    const result = await lookUpPhones({ token: async () => 'expired', addresses: fields.map((f) => f.key), url });

    assert.equal(result.ok, false);
    assert.deepEqual(fields.map((f) => f.input.value), ['070', '']);
    assert.ok(texts.en[`lookup_${result.reason}`] && texts.sv[`lookup_${result.reason}`], 'a message in both languages');
  });
});

describe('config signIn', () => {
  const base = { organisationDomains: ['example.se'] };

  test('graphLookup with sign-in settings stays on', () => {
    const config = parseConfig({ ...base, graphLookup: true, signIn });
    assert.equal(config.graphLookup, true);
    assert.deepEqual({ ...config.signIn }, signIn);
  });

  test('graphLookup without usable sign-in settings is off', () => {
    assert.equal(parseConfig({ ...base, graphLookup: true }).graphLookup, false);
    assert.equal(parseConfig({ ...base, graphLookup: true, signIn: { ...signIn, authority: 'http://login.example' } }).graphLookup, false);
    assert.equal(parseConfig({ ...base, graphLookup: true, signIn: { ...signIn, apiScope: 'two scopes' } }).graphLookup, false);
  });
});
