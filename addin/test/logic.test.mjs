// Pure logic of the task pane: phone numbers, header values, recipients, subject, texts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as phoneLib from 'libphonenumber-js/mobile';
import { normalisePhone } from '../web/phone.js';
import {
  buildSecureHeaders, headerSafeAddress, HeaderValueError, parsePhoneHeader, phoneList, SEALED_HEADER, FLAG_HEADER,
} from '../web/headers.js';
import { classifyRecipients, domainOf, isInternal } from '../web/recipients.js';
import { withSubjectKeyword } from '../web/subject.js';
import { languageFor, texts, translator } from '../web/i18n.js';
import { parseConfig } from '../web/config.js';
import { recallPhone, rememberPhones, storageKey } from '../web/remembered.js';

describe('normalisePhone', () => {
  const ok = (input, e164, country = 'SE') => assert.deepEqual(normalisePhone(phoneLib, input, country), { ok: true, e164 }, input);
  const bad = (input, reason, country = 'SE') => assert.deepEqual(normalisePhone(phoneLib, input, country), { ok: false, reason }, JSON.stringify(input));

  test('Swedish local formats become E.164', () => {
    ok('070-123 45 67', '+46701234567');
    ok('0701234567', '+46701234567');
    ok('(070) 123 45 67', '+46701234567');
    ok('070\u00a0123\u00a045\u00a067', '+46701234567');
    ok('  073 - 987 65 43 ', '+46739876543');
  });

  test('international formats are accepted when valid mobile numbers', () => {
    ok('+46 70 123 45 67', '+46701234567');
    ok('0046701234567', '+46701234567');
    ok('+358 40 123 4567', '+358401234567');
    ok('+47 412 34 567', '+4741234567');
    ok('+1 212 555 0123', '+12125550123'); // US: fixed-line-or-mobile
  });

  test('the default country decides how a national number is read', () => {
    ok('040 123 4567', '+358401234567', 'FI');
    bad('040 123 4567', 'invalid', 'SE'); // Malmö fixed line, not a mobile
  });

  test('letters and other characters are refused', () => {
    bad('abc', 'invalid-characters');
    bad('070-ABC 45 67', 'invalid-characters');
    bad('+46701234567 ext 5', 'invalid-characters');
    bad('070 123 45 67;', 'invalid-characters');
    bad('46+701234567', 'invalid-characters');
  });

  test('header injection attempts are refused', () => {
    bad('+46701234567\r\nBcc: victim@example.org', 'invalid-characters');
    bad('+46701234567\n', 'invalid-characters');
    bad('\r\n+46701234567', 'invalid-characters');
    bad('+46701234567,evil@example.org=+46700000000', 'invalid-characters');
    bad('070=1234567', 'invalid-characters');
  });

  test('empty, too short and too long numbers are refused', () => {
    bad('', 'empty');
    bad('   ', 'empty');
    bad(undefined, 'empty');
    bad('070123', 'too-short');
    bad('+4', 'too-short');
    bad('070 123 45 67 89 01', 'too-long');
    bad('0'.repeat(40), 'too-long');
  });

  test('premium-rate, fixed-line and unknown-country numbers are refused', () => {
    bad('+1 900 555 0123', 'invalid'); // US premium rate
    bad('+46 8 123 456 78', 'invalid'); // Stockholm fixed line
    bad('0900-123 45 67', 'invalid'); // Swedish premium rate
    bad('+999 1234567', 'invalid-country');
  });
});

describe('header values', () => {
  test('one flag header and the comma-separated phone list, sealed', async () => {
    const sealed = [];
    const headers = await buildSecureHeaders([
      { address: 'Anna@Example.org', phone: '+46701234567' },
      { address: 'bo@example.net', phone: '+358401234567' },
    ], async (list) => { sealed.push(list); return 'SEALED'; });
    assert.deepEqual(headers, { [FLAG_HEADER]: 'secure', [SEALED_HEADER]: 'SEALED' });
    assert.deepEqual(sealed, ['anna@example.org=+46701234567, bo@example.net=+358401234567']);
    assert.deepEqual(parsePhoneHeader(sealed[0]), [
      { address: 'anna@example.org', phone: '+46701234567' },
      { address: 'bo@example.net', phone: '+358401234567' },
    ]);
  });

  test('without external recipients only the flag is set, and nothing is sealed', async () => {
    const seal = async () => assert.fail('nothing to seal');
    assert.deepEqual(await buildSecureHeaders([], seal), { 'X-SecureMailbox': 'secure' });
  });

  test('the same address twice with the same number is written once', () => {
    assert.equal(phoneList([
      { address: 'anna@example.org', phone: '+46701234567' },
      { address: 'ANNA@example.org', phone: '+46701234567' },
    ]), 'anna@example.org=+46701234567');
  });

  const refuses = (entry, kind) => assert.throws(() => phoneList([entry]), (error) =>
    error instanceof HeaderValueError && error.kind === kind, JSON.stringify(entry));

  test('CR/LF, commas, "=" and spaces in an address are refused', () => {
    refuses({ address: 'anna@example.org\r\nBcc: x@evil.example', phone: '+46701234567' }, 'address');
    refuses({ address: 'anna@example.org\n', phone: '+46701234567' }, 'address');
    refuses({ address: 'anna,bo@example.org', phone: '+46701234567' }, 'address');
    refuses({ address: 'a=b@example.org', phone: '+46701234567' }, 'address');
    refuses({ address: 'anna@example.org=+46700000000', phone: '+46701234567' }, 'address');
    refuses({ address: 'anna smith@example.org', phone: '+46701234567' }, 'address');
    refuses({ address: '"anna"@example.org', phone: '+46701234567' }, 'address');
    refuses({ address: 'anna@localhost', phone: '+46701234567' }, 'address');
    refuses({ address: 'no-at-sign', phone: '+46701234567' }, 'address');
  });

  test('a phone value that is not strict E.164 is refused', () => {
    refuses({ address: 'anna@example.org', phone: '+46701234567\r\nX-Evil: 1' }, 'phone');
    refuses({ address: 'anna@example.org', phone: '+46701234567, bo@example.net=+46700000000' }, 'phone');
    refuses({ address: 'anna@example.org', phone: '070-123 45 67' }, 'phone');
    refuses({ address: 'anna@example.org', phone: '+0701234567' }, 'phone');
    refuses({ address: 'anna@example.org', phone: '' }, 'phone');
  });

  test('conflicting numbers for one address are refused', () => {
    assert.throws(() => phoneList([
      { address: 'anna@example.org', phone: '+46701234567' },
      { address: 'Anna@example.org', phone: '+46709999999' },
    ]), HeaderValueError);
  });

  test('internationalised domains go into the header in ASCII form', () => {
    assert.equal(headerSafeAddress('åsa@exämple.se'), null); // non-ASCII local part
    assert.equal(headerSafeAddress('asa@Exämple.se'), 'asa@xn--exmple-cua.se');
  });
});

describe('recipients', () => {
  const org = ['example.se'];

  test('domains and subdomains of the organisation are internal', () => {
    assert.equal(domainOf('Anna@Example.SE'), 'example.se');
    assert.equal(isInternal('anna@example.se', org), true);
    assert.equal(isInternal('anna@region.example.se', org), true);
    assert.equal(isInternal('anna@notexample.se', org), false);
    assert.equal(isInternal('anna@example.se.evil.example', org), false);
    assert.equal(isInternal('no-domain', org), false);
    assert.equal(isInternal('anna@example.se', []), false);
  });

  test('To, Cc and Bcc are merged per address and classified', () => {
    const list = classifyRecipients({
      to: [{ emailAddress: 'anna@example.org', displayName: 'Anna Andersson' }, { emailAddress: 'kollega@example.se', displayName: 'Kollega' }],
      cc: [{ emailAddress: 'ANNA@example.org', displayName: 'Anna' }, { emailAddress: 'bo@example.net', displayName: 'bo@example.net' }],
      bcc: [{ emailAddress: 'chef@region.example.se' }, { emailAddress: '' }],
    }, org);
    assert.deepEqual(list.map((r) => [r.key, r.fields, r.external, r.usable, r.displayName]), [
      ['anna@example.org', ['to', 'cc'], true, true, 'Anna Andersson'],
      ['kollega@example.se', ['to'], false, true, 'Kollega'],
      ['bo@example.net', ['cc'], true, true, ''],
      ['chef@region.example.se', ['bcc'], false, true, ''],
    ]);
  });

  test('an address that cannot travel in the header is marked unusable', () => {
    const [recipient] = classifyRecipients({ to: [{ emailAddress: 'a=b@example.org' }] }, org);
    assert.equal(recipient.external, true);
    assert.equal(recipient.usable, false);
  });
});

describe('subject keyword', () => {
  test('is added in front once', () => {
    assert.equal(withSubjectKeyword('Remiss', '[secure]'), '[secure] Remiss');
    assert.equal(withSubjectKeyword('[secure] Remiss', '[secure]'), '[secure] Remiss');
    assert.equal(withSubjectKeyword('Re: [SECURE] Remiss', '[secure]'), 'Re: [SECURE] Remiss');
    assert.equal(withSubjectKeyword(withSubjectKeyword('Remiss', '[säker]'), '[säker]'), '[säker] Remiss');
    assert.equal(withSubjectKeyword('', '[secure]'), '[secure]');
  });

  test('an empty keyword is a configuration error', () => {
    assert.throws(() => withSubjectKeyword('Remiss', '  '), /empty/);
  });
});

describe('texts', () => {
  test('Swedish display languages get Swedish, everything else English', () => {
    for (const value of ['sv', 'sv-SE', 'SV-fi', 'sv_SE']) assert.equal(languageFor(value), 'sv', value);
    for (const value of ['en-US', 'fi-FI', 'svg', '', undefined, 'nb-NO']) assert.equal(languageFor(value), 'en', String(value));
  });

  test('both languages have the same keys and fill placeholders', () => {
    assert.deepEqual(Object.keys(texts.sv).sort(), Object.keys(texts.en).sort());
    assert.equal(translator('sv')('phoneLabel', { address: 'anna@example.org' }), 'Mobilnummer till anna@example.org');
    assert.equal(translator('en')('send'), 'Send secure');
    assert.equal(translator('sv')('send'), 'Skicka säkert');
    assert.throws(() => translator('en')('no-such-text'), /Missing text/);
  });
});

describe('config.json', () => {
  test('defaults and normalisation', () => {
    const config = parseConfig({ organisationDomains: [' Example.SE '], defaultCountry: 'se' });
    assert.deepEqual(config.organisationDomains, ['example.se']);
    assert.equal(config.subjectKeyword, '[secure]');
    assert.equal(config.defaultCountry, 'SE');
    assert.equal(config.graphLookup, false);
  });

  test('bad settings are named', () => {
    assert.throws(() => parseConfig({ organisationDomains: 'example.se' }), /organisationDomains/);
    assert.throws(() => parseConfig({ subjectKeyword: '[secure]\r\nBcc: x' }), /subjectKeyword/);
    assert.throws(() => parseConfig({ defaultCountry: 'Sweden' }), /defaultCountry/);
    assert.throws(() => parseConfig([]), /not an object/);
  });
});

describe('remembered numbers', () => {
  const memoryStorage = () => {
    const map = new Map();
    return { map, getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)) };
  };

  test('are keyed by lowercased address and only hold E.164 values', () => {
    const storage = memoryStorage();
    assert.equal(rememberPhones(storage, [
      { address: 'Anna@Example.org', phone: '+46701234567' },
      { address: 'bo@example.net', phone: 'not a number' },
    ]), 1);
    assert.equal(storage.map.get(storageKey('anna@example.org')), '+46701234567');
    assert.equal(recallPhone(storage, 'ANNA@example.org'), '+46701234567');
    assert.equal(recallPhone(storage, 'bo@example.net'), '');
    storage.setItem(storageKey('eve@example.org'), '<img src=x>');
    assert.equal(recallPhone(storage, 'eve@example.org'), '');
  });

  test('failing storage neither throws nor remembers', () => {
    const broken = { getItem() { throw new Error('SecurityError'); }, setItem() { throw new Error('QuotaExceeded'); } };
    assert.equal(recallPhone(broken, 'anna@example.org'), '');
    assert.equal(rememberPhones(broken, [{ address: 'anna@example.org', phone: '+46701234567' }]), 0);
    assert.equal(recallPhone(null, 'anna@example.org'), '');
  });
});
