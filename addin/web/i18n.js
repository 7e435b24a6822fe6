// Swedish and English texts, picked from Office.context.displayLanguage.

const en = {
  title: 'Send secure',
  intro: 'Recipients outside your organisation get a link and sign in with a code sent to their mobile phone. Enter a mobile number for each of them.',
  introFallback: 'Recipients outside your organisation get a link and sign in with a code sent to their mobile phone.',
  loading: 'Reading the recipients…',
  recipientsHeading: 'Recipients',
  field_to: 'To',
  field_cc: 'Cc',
  field_bcc: 'Bcc',
  internal: 'Internal',
  external: 'External',
  phoneLabel: 'Mobile number for {address}',
  phoneHint: 'For example 070-123 45 67 or +46 70 123 45 67.',
  phoneWillSend: 'Will be sent as {e164}.',
  phoneRemembered: 'Filled in from an earlier message.',
  phoneLookedUp: 'Filled in from your contacts or the directory; check it.',
  lookingUp: 'Looking up mobile numbers…',
  lookup_signIn: 'Could not sign in to look up mobile numbers. Enter them yourself.',
  lookup_unauthorized: 'You may not look up mobile numbers (sign-in refused). Enter them yourself.',
  lookup_failed: 'Mobile numbers could not be looked up just now. Enter them yourself.',
  phone_empty: 'Enter a mobile number.',
  'phone_invalid-characters': 'Use only digits, spaces, +, - and parentheses.',
  'phone_too-short': 'The number is too short.',
  'phone_too-long': 'The number is too long.',
  'phone_invalid-country': 'Unknown country code.',
  phone_invalid: 'This is not a valid mobile number.',
  addressUnusable: 'This address cannot be used for secure sending. Remove it or send the message another way.',
  noRecipients: 'The message has no recipients yet. Add them, then refresh.',
  noExternal: 'All recipients are in your organisation; no mobile numbers are needed.',
  refresh: 'Refresh recipients',
  send: 'Send secure',
  fallbackNotice: 'This version of Outlook cannot add the SecureMailbox headers. “{keyword}” will be added to the subject instead, and mobile numbers cannot be passed on: if a recipient’s number is not yet known, you get a message back that explains how to add it.',
  working: 'Marking the message as secure…',
  sending: 'Sending…',
  doneSent: 'The message was sent securely.',
  donePressSend: 'The message is marked as secure. Press Send in Outlook to send it.',
  doneFallbackSent: '“{keyword}” was added to the subject and the message was sent.',
  doneFallbackPressSend: '“{keyword}” was added to the subject. Press Send in Outlook to send the message.',
  errorFields: 'Check the mobile numbers marked below ({count}). Nothing was sent.',
  errorAddress: 'The message cannot be sent securely because of an unusable address. Nothing was sent.',
  errorOffice: 'Outlook could not mark the message as secure: {message}. Nothing was sent.',
  errorSend: 'The message is marked as secure, but Outlook could not send it: {message}. Press Send in Outlook.',
  errorConfig: 'Could not load the SecureMailbox settings: {message}.',
  errorRecipients: 'Could not read the recipients: {message}.',
  errorOfficeMissing: 'Office.js did not load. Open this pane from Outlook.',
};

const sv = {
  title: 'Skicka säkert',
  intro: 'Mottagare utanför organisationen får en länk och loggar in med en kod som skickas till deras mobiltelefon. Ange ett mobilnummer för var och en av dem.',
  introFallback: 'Mottagare utanför organisationen får en länk och loggar in med en kod som skickas till deras mobiltelefon.',
  loading: 'Läser mottagarna…',
  recipientsHeading: 'Mottagare',
  field_to: 'Till',
  field_cc: 'Kopia',
  field_bcc: 'Hemlig kopia',
  internal: 'Intern',
  external: 'Extern',
  phoneLabel: 'Mobilnummer till {address}',
  phoneHint: 'Till exempel 070-123 45 67 eller +46 70 123 45 67.',
  phoneWillSend: 'Skickas som {e164}.',
  phoneRemembered: 'Ifyllt från ett tidigare meddelande.',
  phoneLookedUp: 'Ifyllt från dina kontakter eller katalogen; kontrollera det.',
  lookingUp: 'Slår upp mobilnummer…',
  lookup_signIn: 'Kunde inte logga in för att slå upp mobilnummer. Fyll i dem själv.',
  lookup_unauthorized: 'Du får inte slå upp mobilnummer (inloggningen nekades). Fyll i dem själv.',
  lookup_failed: 'Mobilnumren kunde inte slås upp just nu. Fyll i dem själv.',
  phone_empty: 'Ange ett mobilnummer.',
  'phone_invalid-characters': 'Använd bara siffror, mellanslag, +, - och parenteser.',
  'phone_too-short': 'Numret är för kort.',
  'phone_too-long': 'Numret är för långt.',
  'phone_invalid-country': 'Okänd landskod.',
  phone_invalid: 'Det här är inte ett giltigt mobilnummer.',
  addressUnusable: 'Adressen kan inte användas för säker e-post. Ta bort den eller skicka meddelandet på annat sätt.',
  noRecipients: 'Meddelandet har inga mottagare än. Lägg till dem och uppdatera sedan.',
  noExternal: 'Alla mottagare finns i organisationen; inga mobilnummer behövs.',
  refresh: 'Uppdatera mottagare',
  send: 'Skicka säkert',
  fallbackNotice: 'Den här versionen av Outlook kan inte lägga till SecureMailbox-rubrikerna. ”{keyword}” läggs till i ämnesraden i stället, och mobilnummer kan inte skickas med: om en mottagares nummer inte är känt än får du ett meddelande tillbaka som förklarar hur du lägger till det.',
  working: 'Markerar meddelandet som säkert…',
  sending: 'Skickar…',
  doneSent: 'Meddelandet skickades säkert.',
  donePressSend: 'Meddelandet är markerat som säkert. Tryck på Skicka i Outlook för att skicka det.',
  doneFallbackSent: '”{keyword}” lades till i ämnesraden och meddelandet skickades.',
  doneFallbackPressSend: '”{keyword}” lades till i ämnesraden. Tryck på Skicka i Outlook för att skicka meddelandet.',
  errorFields: 'Kontrollera de markerade mobilnumren nedan ({count}). Inget skickades.',
  errorAddress: 'Meddelandet kan inte skickas säkert på grund av en oanvändbar adress. Inget skickades.',
  errorOffice: 'Outlook kunde inte markera meddelandet som säkert: {message}. Inget skickades.',
  errorSend: 'Meddelandet är markerat som säkert, men Outlook kunde inte skicka det: {message}. Tryck på Skicka i Outlook.',
  errorConfig: 'Kunde inte läsa in inställningarna för SecureMailbox: {message}.',
  errorRecipients: 'Kunde inte läsa mottagarna: {message}.',
  errorOfficeMissing: 'Office.js lästes inte in. Öppna fönstret från Outlook.',
};

export const texts = Object.freeze({ en, sv });

/** 'sv' for any Swedish display language (sv, sv-SE, sv-FI), otherwise 'en'. */
export function languageFor(displayLanguage) {
  return /^sv(?:[-_]|$)/i.test(String(displayLanguage ?? '').trim()) ? 'sv' : 'en';
}

/** A function t(key, params) that fills {name} placeholders; unknown keys fall back to English. */
export function translator(language) {
  const table = texts[language] ?? en;
  return (key, params = {}) => {
    const template = table[key] ?? en[key];
    if (template === undefined) throw new Error(`Missing text: ${key}`);
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  };
}
