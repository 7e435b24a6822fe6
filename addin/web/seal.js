// Seals the phone list to the gateway's X25519 key: an age v1 file (https://age-encryption.org/v1),
// base64, in groups of 76 characters separated by spaces so that mail servers can fold the header
// line; the gateway ignores the spaces. Only the gateway's private key opens it.
import { Encrypter } from './vendor/age-encryption.js';

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

export class SealError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SealError';
  }
}

/** True for an age X25519 public key as the portal publishes it (age1…, lower case). */
export function isAgeRecipient(value) {
  return typeof value === 'string' && AGE_RECIPIENT.test(value);
}

function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The header value for `list`, sealed to `recipient`; throws SealError when it cannot be sealed. */
export async function sealPhoneList(list, recipient) {
  if (!isAgeRecipient(recipient)) throw new SealError('The gateway key is missing or not an age public key.');
  let file;
  try {
    const encrypter = new Encrypter();
    encrypter.addRecipient(recipient);
    file = await encrypter.encrypt(list);
  } catch (error) {
    throw new SealError(`Could not seal the numbers: ${error?.message ?? error}`);
  }
  return base64(file).match(/.{1,76}/g).join(' ');
}

/** A seal function bound to the gateway's key, for buildSecureHeaders. */
export const sealerFor = (recipient) => (list) => sealPhoneList(list, recipient);
