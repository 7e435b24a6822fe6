// Mobile numbers the sender used before, kept in the task pane's localStorage and keyed
// by the recipient's lowercased address. Storage can be missing or full (private mode,
// locked-down Outlook): then nothing is remembered and nothing fails.
import { isE164 } from './headers.js';

const PREFIX = 'securemailbox.phone.';

export function storageKey(address) {
  return PREFIX + String(address).trim().toLowerCase();
}

/** The remembered E.164 number for the address, or ''. */
export function recallPhone(storage, address) {
  try {
    const value = storage?.getItem(storageKey(address));
    return isE164(value) ? value : '';
  } catch {
    return '';
  }
}

/** Remembers [{ address, phone }]; returns how many were stored. */
export function rememberPhones(storage, entries) {
  let stored = 0;
  for (const { address, phone } of entries) {
    if (!isE164(phone)) continue;
    try {
      storage?.setItem(storageKey(address), phone);
      stored++;
    } catch {
      // Quota or policy: the number simply is not pre-filled next time.
    }
  }
  return stored;
}
