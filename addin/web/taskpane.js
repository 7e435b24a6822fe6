// DOM wiring of the task pane. Logic lives in the modules it imports; this file only
// renders state and reacts to the user.
import { loadConfig } from './config.js';
import { languageFor, translator } from './i18n.js';
import { normalisePhone } from './phone.js';
import { classifyRecipients, readRecipients } from './recipients.js';
import { recallPhone, rememberPhones } from './remembered.js';
import { capabilities, markSecureAndSend } from './secure-send.js';
import { HeaderValueError } from './headers.js';
import { createTokenSource, loadMsal, lookUpPhones, prefillPhones } from './graph-lookup.js';

/** Outlook's error text without a final full stop, to sit inside our own sentence. */
const officeText = (error) => String(error?.officeMessage ?? error?.message ?? error).trim().replace(/[.\s]+$/, '');

/** Starts the pane; every dependency is passed in so a test page could drive it too. */
export async function startTaskpane({ office, doc = document, storage, fetchImpl = fetch, phoneLib, msalLoader = loadMsal }) {
  const $ = (id) => doc.getElementById(id);
  const ui = {
    form: $('secure-form'), list: $('recipient-list'), empty: $('recipients-empty'),
    send: $('send-secure'), refresh: $('refresh'), status: $('status'), notice: $('fallback-notice'),
  };
  const language = languageFor(office.context.displayLanguage);
  const t = translator(language);
  doc.documentElement.lang = language;
  for (const element of doc.querySelectorAll('[data-text]')) element.textContent = t(element.dataset.text);

  const setStatus = (state, text) => {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  };

  const item = office.context.mailbox.item;
  const can = capabilities(office);
  const typed = new Map(); // recipient key -> what the user typed, kept across refreshes
  let config;
  let rows = [];
  let busy = false;

  setStatus('working', t('loading'));
  try {
    if (!phoneLib || typeof phoneLib.parsePhoneNumberFromString !== 'function') {
      throw new Error('vendor/libphonenumber-mobile.js did not load');
    }
    config = await loadConfig(fetchImpl);
  } catch (error) {
    setStatus('error', t('errorConfig', { message: officeText(error) }));
    return;
  }
  if (!can.internetHeaders) {
    $('intro').textContent = t('introFallback');
    ui.notice.textContent = t('fallbackNotice', { keyword: config.subjectKeyword });
    ui.notice.hidden = false;
  }

  function checkRow(row, show) {
    if (!row.input) return true;
    const outcome = normalisePhone(phoneLib, row.input.value, config.defaultCountry);
    row.e164 = outcome.ok ? outcome.e164 : '';
    if (outcome.ok) {
      row.input.setAttribute('aria-invalid', 'false');
      row.message.className = 'field-msg ok';
      row.message.textContent = t('phoneWillSend', { e164: outcome.e164 });
    } else if (show) {
      row.input.setAttribute('aria-invalid', 'true');
      row.message.className = 'field-msg error';
      row.message.textContent = t(`phone_${outcome.reason}`);
    } else {
      row.input.setAttribute('aria-invalid', 'false');
      row.message.className = 'field-msg';
      row.message.textContent = '';
    }
    return outcome.ok;
  }

  function renderRecipient(recipient, index) {
    const li = doc.createElement('li');
    li.className = `recipient ${recipient.external ? 'external' : 'internal'}`;
    li.dataset.address = recipient.key;

    const head = doc.createElement('div');
    head.className = 'recipient-head';
    const add = (tag, className, text) => {
      const element = doc.createElement(tag);
      element.className = className;
      element.textContent = text;
      head.append(element);
      return element;
    };
    if (recipient.displayName) add('span', 'recipient-name', recipient.displayName);
    add('span', recipient.displayName ? 'recipient-address' : 'recipient-name', recipient.address);
    add('span', `badge ${recipient.external ? 'external' : 'internal'}`, t(recipient.external ? 'external' : 'internal'));
    add('span', 'recipient-fields', recipient.fields.map((field) => t(`field_${field}`)).join(', '));
    li.append(head);

    const row = { recipient, input: null, message: null, e164: '' };
    if (recipient.external && can.internetHeaders) {
      if (!recipient.usable) {
        const message = doc.createElement('p');
        message.className = 'field-msg error';
        message.textContent = t('addressUnusable');
        li.append(message);
      } else {
        const id = `phone-${index}`;
        const box = doc.createElement('div');
        box.className = 'phone';
        const label = doc.createElement('label');
        label.htmlFor = id;
        label.textContent = t('phoneLabel', { address: recipient.address });
        const input = doc.createElement('input');
        Object.assign(input, { id, type: 'tel', name: id, autocomplete: 'off', spellcheck: false });
        input.setAttribute('inputmode', 'tel');
        input.setAttribute('aria-describedby', `${id}-hint ${id}-msg`);
        input.setAttribute('aria-invalid', 'false');
        input.setAttribute('aria-required', 'true');
        const hint = doc.createElement('p');
        hint.className = 'hint';
        hint.id = `${id}-hint`;
        const message = doc.createElement('p');
        message.className = 'field-msg';
        message.id = `${id}-msg`;

        const remembered = recallPhone(storage, recipient.key);
        input.value = typed.get(recipient.key) ?? remembered;
        hint.textContent = !typed.has(recipient.key) && remembered ? t('phoneRemembered') : t('phoneHint');

        row.input = input;
        row.message = message;
        let touched = false;
        input.addEventListener('input', () => {
          typed.set(recipient.key, input.value);
          checkRow(row, touched && input.value.trim() !== '');
          if (fieldsError) updateFieldsError();
        });
        input.addEventListener('blur', () => {
          touched = true;
          checkRow(row, input.value.trim() !== '');
        });
        box.append(label, input, hint, message);
        li.append(box);
        if (input.value) checkRow(row, true);
      }
    }
    rows.push(row);
    return li;
  }

  // After a blocked send, keep the summary in step with the fields as they are fixed.
  let fieldsError = false;
  function updateFieldsError() {
    const left = rows.filter((row) => row.input && !row.e164).length;
    if (left === 0) {
      fieldsError = false;
      setStatus('idle', '');
    } else {
      setStatus('error', t('errorFields', { count: left }));
    }
  }

  async function refresh() {
    let recipients;
    try {
      recipients = classifyRecipients(await readRecipients(item), config.organisationDomains);
    } catch (error) {
      setStatus('error', t('errorRecipients', { message: officeText(error) }));
      return;
    }
    rows = [];
    ui.list.replaceChildren(...recipients.map(renderRecipient));
    const externals = recipients.filter((r) => r.external);
    ui.empty.hidden = recipients.length > 0 && externals.length > 0;
    ui.empty.textContent = recipients.length === 0 ? t('noRecipients') : t('noExternal');
    ui.send.disabled = recipients.length === 0;
    if (!busy) setStatus('idle', '');
    if (config.graphLookup && can.internetHeaders) lookUp();
  }

  // Graph lookup (optional): fills only empty fields the user has not typed in; any failure
  // leaves manual entry as it is, with a message.
  let tokenSource = null;
  async function lookUp() {
    const fields = rows
      .filter((row) => row.input && !typed.has(row.recipient.key) && row.input.value.trim() === '')
      .map((row) => ({ key: row.recipient.key, input: row.input, row }));
    if (fields.length === 0) return;
    if (!busy) setStatus('working', t('lookingUp'));
    let result;
    try {
      tokenSource ??= await createTokenSource(await msalLoader(doc), config.signIn);
      result = await lookUpPhones({ token: tokenSource, fetchImpl, addresses: fields.map((f) => f.key) });
    } catch {
      result = { ok: false, reason: 'signIn' };
    }
    if (busy) return;
    if (!result.ok) {
      setStatus('error', t(`lookup_${result.reason}`));
      return;
    }
    // Read `typed` again: the user may have typed while the lookup ran.
    const current = fields.map((f) => ({ ...f, typed: typed.has(f.key) }));
    for (const key of prefillPhones(current, result.phones)) {
      const { row } = current.find((f) => f.key === key);
      checkRow(row, true);
      const hint = doc.getElementById(`${row.input.id}-hint`);
      if (hint) hint.textContent = t('phoneLookedUp');
    }
    setStatus('idle', '');
  }

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    const problems = rows.filter((row) => !checkRow(row, true));
    if (problems.length > 0) {
      fieldsError = true;
      setStatus('error', t('errorFields', { count: problems.length }));
      problems[0].input.focus();
      return;
    }
    if (can.internetHeaders && rows.some((row) => row.recipient.external && !row.recipient.usable)) {
      setStatus('error', t('errorAddress'));
      return;
    }
    fieldsError = false;
    const entries = rows.filter((row) => row.input).map((row) => ({ address: row.recipient.key, phone: row.e164 }));

    busy = true;
    ui.send.disabled = true;
    ui.refresh.disabled = true;
    ui.form.setAttribute('aria-busy', 'true');
    try {
      const result = await markSecureAndSend(office, {
        entries,
        subjectKeyword: config.subjectKeyword,
        onProgress: (stage, flagged) => {
          if (stage === 'working') setStatus('working', t('working'));
          if (stage === 'sending') setStatus('working', t('sending'));
          // Remember only numbers that really went into the message.
          if (stage === 'flagged' && flagged.mode === 'headers') rememberPhones(storage, entries);
        },
      });
      const keyword = config.subjectKeyword;
      if (result.mode === 'headers') setStatus('done', t(result.sent ? 'doneSent' : 'donePressSend'));
      else setStatus('done', t(result.sent ? 'doneFallbackSent' : 'doneFallbackPressSend', { keyword }));
    } catch (error) {
      if (error instanceof HeaderValueError) setStatus('error', t('errorAddress'));
      else if (error.stage === 'send') setStatus('error', t('errorSend', { message: officeText(error) }));
      else setStatus('error', t('errorOffice', { message: officeText(error) }));
    } finally {
      busy = false;
      ui.send.disabled = false;
      ui.refresh.disabled = false;
      ui.form.removeAttribute('aria-busy');
    }
  }

  ui.form.addEventListener('submit', submit);
  ui.refresh.addEventListener('click', refresh);
  // Mailbox 1.7: follow recipient changes while the pane is open (pinned).
  const recipientsChanged = office.EventType && office.EventType.RecipientsChanged;
  if (recipientsChanged && typeof item.addHandlerAsync === 'function') {
    item.addHandlerAsync(recipientsChanged, () => { if (!busy) refresh(); });
  }
  await refresh();
}

const office = globalThis.Office;
if (office && typeof office.onReady === 'function') {
  office.onReady(() => {
    let storage = null;
    try { storage = globalThis.localStorage; } catch { /* blocked storage: nothing is remembered */ }
    startTaskpane({ office, storage, phoneLib: globalThis.libphonenumber }).catch((error) => {
      const status = document.getElementById('status');
      status.dataset.state = 'error';
      status.textContent = String(error && error.message ? error.message : error);
    });
  });
} else {
  const status = document.getElementById('status');
  status.dataset.state = 'error';
  status.textContent = translator(languageFor(navigator.language))('errorOfficeMissing');
}
