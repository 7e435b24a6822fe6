// The recipient -> number list and the X-SecureMailbox headers. Wire format (see addin/README.md):
//   X-SecureMailbox: secure
//   X-SecureMailbox-Sealed: <base64 of an age file, encrypted to the gateway's key, whose plaintext is the list>
// The list is "anna@example.org=+46701234567, bo@example.net=+46707654321". The add-in never
// writes it in clear: a copy that reaches internal recipients directly would show every number
// and every Bcc address. (The gateway still reads the plain X-SecureMailbox-Phone form from
// scripts.) Values are checked here because ',' or '=' would corrupt the list.

export const FLAG_HEADER = 'X-SecureMailbox';
export const FLAG_VALUE = 'secure';
export const PHONE_HEADER = 'X-SecureMailbox-Phone';
export const SEALED_HEADER = 'X-SecureMailbox-Sealed';

const E164 = /^\+[1-9][0-9]{6,14}$/;
// RFC 5322 dot-atom local part without '=' (our separator). Quoted local parts are refused.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Thrown when a value would not be safe or unambiguous in a header. */
export class HeaderValueError extends Error {
  constructor(kind, value) {
    super(`Refused ${kind} for ${PHONE_HEADER}: ${JSON.stringify(String(value)).slice(0, 80)}`);
    this.name = 'HeaderValueError';
    this.kind = kind;
    this.value = value;
  }
}

/** Converts an internationalised domain to its ASCII (A-label) form, or null. */
function asciiDomain(domain) {
  if (/^[\x21-\x7e]+$/.test(domain)) return domain.toLowerCase();
  if (/[\s/\\?#@:%]/.test(domain)) return null;
  try {
    return new URL(`http://${domain}/`).hostname;
  } catch {
    return null;
  }
}

/** The lowercased address as it goes into the header, or null when it cannot go there safely. */
export function headerSafeAddress(address) {
  if (typeof address !== 'string' || address.length > 254) return null;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  const local = address.slice(0, at);
  if (local.length > 64 || !LOCAL_PART.test(local)) return null;
  const domain = asciiDomain(address.slice(at + 1));
  if (!domain) return null;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) return null;
  return `${local}@${domain}`.toLowerCase();
}

/** True for an E.164 number: '+', country code, at most 15 digits, nothing else. */
export function isE164(phone) {
  return typeof phone === 'string' && E164.test(phone);
}

/**
 * The phone list for `entries` ([{ address, phone }], phones already E.164), or '' when empty.
 * Throws HeaderValueError on anything unsafe or ambiguous.
 */
export function phoneList(entries = []) {
  const pairs = new Map();
  for (const { address, phone } of entries) {
    const safeAddress = headerSafeAddress(address);
    if (safeAddress === null) throw new HeaderValueError('address', address);
    if (!isE164(phone)) throw new HeaderValueError('phone', phone);
    const earlier = pairs.get(safeAddress);
    if (earlier !== undefined && earlier !== phone) throw new HeaderValueError('duplicate address', address);
    pairs.set(safeAddress, phone);
  }
  return [...pairs].map(([address, phone]) => `${address}=${phone}`).join(', ');
}

/**
 * The headers for a secure message: the flag, and the list sealed with `seal(list)` (an async
 * function returning the header value) when there are external recipients.
 */
export async function buildSecureHeaders(entries, seal) {
  const list = phoneList(entries);
  const headers = { [FLAG_HEADER]: FLAG_VALUE };
  if (list !== '') headers[SEALED_HEADER] = await seal(list);
  return headers;
}

/** Reads the list form back (what the gateway does); used by tests and as executable documentation. */
export function parsePhoneHeader(value) {
  return String(value)
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.lastIndexOf('=');
      return { address: part.slice(0, eq), phone: part.slice(eq + 1) };
    });
}
