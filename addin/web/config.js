// Loads /addin/config.json (relative to the page, so it works under the portal's /addin/).
import { isAgeRecipient } from './seal.js';

export const DEFAULT_CONFIG = Object.freeze({
  organisationDomains: [],
  subjectKeyword: '[secure]',
  defaultCountry: 'SE',
  portalBaseUrl: '',
  graphLookup: false,
  signIn: null,
  gatewayRecipient: null,
});

/** Checks and normalises the JSON the portal serves; throws with the setting's name. */
export function parseConfig(json) {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('config.json is not an object');
  const config = { ...DEFAULT_CONFIG, ...json };
  if (!Array.isArray(config.organisationDomains) || !config.organisationDomains.every((d) => typeof d === 'string')) {
    throw new Error('organisationDomains must be a list of domains');
  }
  config.organisationDomains = config.organisationDomains.map((d) => d.trim().toLowerCase()).filter(Boolean);
  if (typeof config.subjectKeyword !== 'string' || config.subjectKeyword.trim() === '' || /[\r\n]/.test(config.subjectKeyword)) {
    throw new Error('subjectKeyword must be a non-empty single line');
  }
  config.subjectKeyword = config.subjectKeyword.trim();
  if (typeof config.defaultCountry !== 'string' || !/^[A-Za-z]{2}$/.test(config.defaultCountry)) {
    throw new Error('defaultCountry must be a two-letter country code');
  }
  config.defaultCountry = config.defaultCountry.toUpperCase();
  config.graphLookup = config.graphLookup === true;
  // The Graph lookup needs the sign-in settings; without usable ones it is simply off.
  const signIn = config.signIn;
  const usable = (v) => typeof v === 'string' && v.trim() !== '' && !/\s/.test(v.trim());
  config.signIn = signIn && typeof signIn === 'object' && usable(signIn.clientId) && usable(signIn.apiScope)
    && typeof signIn.authority === 'string' && /^https:\/\/[^\s]+$/.test(signIn.authority)
    ? Object.freeze({ clientId: signIn.clientId.trim(), authority: signIn.authority.trim(), apiScope: signIn.apiScope.trim() })
    : null;
  if (!config.signIn) config.graphLookup = false;
  // The gateway's public key (age1…) the phone list is sealed to; null when the portal has none yet.
  config.gatewayRecipient = isAgeRecipient(config.gatewayRecipient) ? config.gatewayRecipient : null;
  return Object.freeze(config);
}

export async function loadConfig(fetchImpl = globalThis.fetch, url = 'config.json') {
  const response = await fetchImpl(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return parseConfig(await response.json());
}
