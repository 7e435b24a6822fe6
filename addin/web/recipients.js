// Reads the compose item's recipients and sorts them into internal and external ones.
import { callAsync } from './office-async.js';
import { headerSafeAddress } from './headers.js';

/** The lowercased domain of an address, or '' when it has none. */
export function domainOf(address) {
  const text = String(address ?? '').trim();
  const at = text.lastIndexOf('@');
  return at < 0 ? '' : text.slice(at + 1).toLowerCase().replace(/\.$/, '');
}

/** True when the address is in one of the organisation's domains or a subdomain of one. */
export function isInternal(address, organisationDomains) {
  const domain = domainOf(address);
  if (!domain) return false;
  return organisationDomains.some((configured) => {
    const own = String(configured).trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
    return own !== '' && (domain === own || domain.endsWith(`.${own}`));
  });
}

/**
 * One entry per distinct address (compared case-insensitively) over To, Cc and Bcc:
 * { key, address, displayName, fields: ['to'|'cc'|'bcc'], external, usable }.
 * `usable` is false when the address cannot travel in the phone header.
 */
export function classifyRecipients({ to = [], cc = [], bcc = [] }, organisationDomains = []) {
  const byKey = new Map();
  for (const [field, list] of [['to', to], ['cc', cc], ['bcc', bcc]]) {
    for (const recipient of list ?? []) {
      const address = String(recipient?.emailAddress ?? '').trim();
      if (!address) continue;
      const key = address.toLowerCase();
      const existing = byKey.get(key);
      if (existing) {
        if (!existing.fields.includes(field)) existing.fields.push(field);
        continue;
      }
      const displayName = String(recipient.displayName ?? '').trim();
      byKey.set(key, {
        key,
        address,
        displayName: displayName && displayName.toLowerCase() !== key ? displayName : '',
        fields: [field],
        external: !isInternal(address, organisationDomains),
        usable: headerSafeAddress(address) !== null,
      });
    }
  }
  return [...byKey.values()];
}

/** Reads To, Cc and Bcc from a compose item (item.to/cc/bcc.getAsync). */
export async function readRecipients(item) {
  const [to, cc, bcc] = await Promise.all(
    ['to', 'cc', 'bcc'].map((field) =>
      item[field] ? callAsync(`${field}.getAsync`, (done) => item[field].getAsync(done)) : Promise.resolve([])),
  );
  return { to: to ?? [], cc: cc ?? [], bcc: bcc ?? [] };
}
