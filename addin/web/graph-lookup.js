// Optional: looks external recipients' mobile numbers up through the portal's add-in API
// (POST api/phones, Microsoft Graph on behalf of the signed-in user), signing in with nested app
// authentication (MSAL.js, vendor/msal-browser.min.js). Whatever fails, manual entry stays as it
// is: the functions here return a reason for the pane to show and never throw.
import { isE164 } from './headers.js';

export const LOOKUP_REASONS = Object.freeze(['signIn', 'unauthorized', 'busy', 'failed']);

/** Loads the MSAL.js browser bundle once (a classic script that sets globalThis.msal). */
export function loadMsal(doc, src = 'vendor/msal-browser.min.js') {
  const existing = globalThis.msal;
  if (existing && typeof existing.createNestablePublicClientApplication === 'function') return Promise.resolve(existing);
  return new Promise((resolve, reject) => {
    const script = doc.createElement('script');
    script.src = src;
    script.onload = () => (globalThis.msal ? resolve(globalThis.msal) : reject(new Error('MSAL.js did not load')));
    script.onerror = () => reject(new Error('MSAL.js did not load'));
    doc.head.append(script);
  });
}

/**
 * A token source for the portal's API with nested app authentication (call only where
 * isSetSupported('NestedAppAuth', '1.1')): `silent()` never shows anything (Outlook's signed-in
 * account, through the host's broker) and is what automatic look-ups use; `interactive()` may open
 * a sign-in or consent popup and is called only when the user asks for it.
 * signIn: { clientId, authority, apiScope } from config.json.
 */
export async function createTokenSource(msal, signIn) {
  const app = await msal.createNestablePublicClientApplication({
    auth: { clientId: signIn.clientId, authority: signIn.authority },
    cache: { cacheLocation: 'localStorage' },
  });
  const request = { scopes: [signIn.apiScope] };
  const token = (result) => {
    if (!result?.accessToken) throw new Error('no access token');
    return result.accessToken;
  };
  return {
    silent: async () => token(await app.acquireTokenSilent(request)),
    interactive: async () => {
      try {
        return token(await app.acquireTokenSilent(request));
      } catch {
        return token(await app.acquireTokenPopup(request));
      }
    },
  };
}

/**
 * Asks the API for the numbers of `addresses` (lowercased). Returns { ok: true, phones, failed } with only
 * addresses that were asked for and E.164 numbers, or { ok: false, reason } (see LOOKUP_REASONS).
 */
export async function lookUpPhones({ token, fetchImpl = globalThis.fetch, addresses, url = 'api/phones' }) {
  const asked = new Set(addresses.map((a) => String(a).toLowerCase()));
  if (asked.size === 0) return { ok: true, phones: {} };
  let accessToken;
  try {
    accessToken = await token();
  } catch {
    return { ok: false, reason: 'signIn' };
  }
  let response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ addresses: [...asked] }),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    return { ok: false, reason: 'failed' };
  }
  if (response.status === 401 || response.status === 403) return { ok: false, reason: 'unauthorized' };
  if (response.status === 429) return { ok: false, reason: 'busy' };
  if (!response.ok) return { ok: false, reason: 'failed' };
  let body;
  try {
    body = await response.json();
  } catch {
    return { ok: false, reason: 'failed' };
  }
  const phones = {};
  const found = body && typeof body.phones === 'object' && body.phones !== null ? body.phones : {};
  for (const [address, phone] of Object.entries(found)) {
    const key = address.toLowerCase();
    if (asked.has(key) && isE164(phone)) phones[key] = phone;
  }
  // Addresses the portal could not look up this time (Graph failed for them); the others are answered.
  const failed = Array.isArray(body?.failed) ? body.failed.map((a) => String(a).toLowerCase()).filter((a) => asked.has(a)) : [];
  return { ok: true, phones, failed };
}

/**
 * Puts looked-up numbers into fields the user has not typed in and that are still empty.
 * fields: [{ key, input, typed }]; returns the keys filled.
 */
export function prefillPhones(fields, phones) {
  const filled = [];
  for (const field of fields) {
    const phone = phones[field.key];
    if (!phone || !field.input || field.typed || field.input.value.trim() !== '') continue;
    field.input.value = phone;
    filled.push(field.key);
  }
  return filled;
}
