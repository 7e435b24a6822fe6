// Validates a mobile number and normalises it to E.164.
// `lib` is libphonenumber-js built with mobile metadata: in the browser the vendored
// bundle (window.libphonenumber), in Node `libphonenumber-js/mobile`. With that metadata
// isValid() is true only for numbers that can be mobile, which is what an SMS code needs;
// premium-rate and fixed-line-only numbers are refused.
import { isE164 } from './headers.js';

// Digits, spaces (incl. no-break space), '+', and the usual punctuation; nothing else.
const ALLOWED = /^[0-9+\-().\/ \u00a0]+$/;
const MAX_INPUT = 32;

/**
 * Returns { ok: true, e164 } or { ok: false, reason }, where reason is one of
 * 'empty', 'invalid-characters', 'too-short', 'too-long', 'invalid-country', 'invalid'.
 */
export function normalisePhone(lib, input, defaultCountry = 'SE') {
  // Only spaces and tabs are trimmed: a CR or LF anywhere is refused, never silently dropped.
  const text = String(input ?? '').replace(/^[ \t\u00a0]+|[ \t\u00a0]+$/g, '');
  if (text === '') return { ok: false, reason: 'empty' };
  if (!ALLOWED.test(text) || text.lastIndexOf('+') > 0) return { ok: false, reason: 'invalid-characters' };
  if (text.length > MAX_INPUT) return { ok: false, reason: 'too-long' };

  // No mobile number anywhere has fewer than 7 digits (country code included).
  if (text.replace(/[^0-9]/g, '').length < 7) return { ok: false, reason: 'too-short' };

  const country = lib.isSupportedCountry(defaultCountry) ? defaultCountry : undefined;
  const lengthProblem = lib.validatePhoneNumberLength(text, country);
  if (lengthProblem === 'TOO_SHORT' || lengthProblem === 'NOT_A_NUMBER') return { ok: false, reason: 'too-short' };
  if (lengthProblem === 'TOO_LONG') return { ok: false, reason: 'too-long' };
  if (lengthProblem === 'INVALID_COUNTRY') return { ok: false, reason: 'invalid-country' };

  const parsed = lib.parsePhoneNumberFromString(text, country);
  if (!parsed || parsed.ext || !parsed.isValid() || !isE164(parsed.number)) return { ok: false, reason: 'invalid' };
  return { ok: true, e164: parsed.number };
}
