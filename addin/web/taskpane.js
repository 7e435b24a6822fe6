// DOM wiring of the task pane. Logic lives in the modules it imports; this file only
// renders state and reacts to the user and to Outlook's events.
import { loadConfig } from './config.js';
import { languageFor, translator } from './i18n.js';
import { normalisePhone } from './phone.js';
import { classifyRecipients, readRecipients } from './recipients.js';
import { recallPhone, rememberPhones } from './remembered.js';
import { capabilities, markSecure, readMark, recipientKeys, sendItem, unmark } from './secure-send.js';
import { HeaderValueError, phoneList } from './headers.js';
import { isAgeRecipient, SealError, sealerFor } from './seal.js';
import { createTokenSource, loadMsal, lookUpPhones, prefillPhones } from './graph-lookup.js';

/** Outlook's error text without a final full stop, to sit inside our own sentence. */
const officeText = (error) => String(error?.officeMessage ?? error?.message ?? error).trim().replace(/[.\s]+$/, '');

/** Starts the pane; every dependency is passed in so a test page could drive it too. */
export async function startTaskpane({ office, doc = document, storage, fetchImpl = fetch, phoneLib, msalLoader = loadMsal }) {
  const $ = (id) => doc.getElementById(id);
  const ui = {
    form: $('secure-form'), list: $('recipient-list'), empty: $('recipients-empty'), intro: $('intro'),
    send: $('send-secure'), refresh: $('refresh'), status: $('status'), notice: $('fallback-notice'),
    unmark: $('unmark'), signIn: $('sign-in'),
  };
  $('script-missing')?.remove();
  // Outlook's display language; outside Outlook (no context) the browser's, so heading and messages agree.
  const language = languageFor(office?.context?.displayLanguage ?? doc.defaultView?.navigator?.language);
  const t = translator(language);
  doc.documentElement.lang = language;
  for (const element of doc.querySelectorAll('[data-text]')) element.textContent = t(element.dataset.text);

  const setStatus = (state, text) => {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  };
  const disableAll = () => {
    for (const button of [ui.send, ui.refresh, ui.unmark, ui.signIn]) button.disabled = true;
    ui.unmark.hidden = true;
    ui.signIn.hidden = true;
  };

  if (!office?.context?.requirements?.isSetSupported?.('Mailbox', '1.1')) {
    disableAll();
    setStatus('error', t('errorNotSupported'));
    return;
  }

  let item = null;
  let can = capabilities(office, null);
  const typed = new Map(); // recipient key -> what the user typed, kept across refreshes of one item
  let config;
  let rows = [];
  let shownKeys = '';
  let marked = null; // { keys, list }: the recipients and phone list the current mark covers (null: unknown)
  let busy = false;
  let refreshAfterBusy = false;
  let generation = 0; // bumped on every render and item change; late results of older ones are dropped
  let submits = 0;

  setStatus('working', t('loading'));
  try {
    if (!phoneLib || typeof phoneLib.parsePhoneNumberFromString !== 'function') {
      throw new Error('vendor/libphonenumber-mobile.js did not load');
    }
    config = await loadConfig(fetchImpl);
  } catch (error) {
    disableAll();
    setStatus('error', t('errorConfig', { message: officeText(error) }));
    return;
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
        input.addEventListener('change', numberChanged);
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

  function showMarked() {
    ui.unmark.hidden = marked === null;
  }

  async function currentRecipients() {
    return classifyRecipients(await readRecipients(item), config.organisationDomains);
  }

  function render(recipients) {
    generation++;
    rows = [];
    ui.list.replaceChildren(...recipients.map(renderRecipient));
    shownKeys = recipientKeys(recipients);
    const externals = recipients.filter((r) => r.external);
    ui.empty.hidden = recipients.length > 0 && externals.length > 0;
    ui.empty.textContent = recipients.length === 0 ? t('noRecipients') : t('noExternal');
    ui.send.disabled = recipients.length === 0;
  }

  /** Entries for the header, or null when a number is missing or an address is unusable. */
  function entriesOrNull() {
    if (rows.some((row) => row.recipient.external && !row.recipient.usable && can.internetHeaders)) return null;
    if (rows.some((row) => !checkRow(row, false))) return null;
    return rows.filter((row) => row.input).map((row) => ({ address: row.recipient.key, phone: row.e164 }));
  }

  const seal = () => sealerFor(config.gatewayRecipient);

  async function removeMark(message) {
    try {
      await unmark(item, can, { subjectKeyword: config.subjectKeyword });
      marked = null;
      showMarked();
      setStatus('error', message);
    } catch (error) {
      setStatus('error', t('errorUnmark', { message: officeText(error) }));
    }
  }

  /** The phone list for entries, or null when it cannot be built (the mark then cannot cover it). */
  const listOf = (entries) => {
    try {
      return phoneList(entries);
    } catch {
      return null;
    }
  };

  // The header must always match the recipients and the numbers shown: after a change, seal the list
  // again when every number is known, otherwise take the mark away and say so.
  async function followMark() {
    if (marked === null || !can.internetHeaders) return;
    const entries = entriesOrNull();
    const list = entries === null ? null : listOf(entries);
    if (marked.keys === shownKeys && (marked.list === null || marked.list === list)) return;
    // Marked before this pane opened (keys unknown): what the sealed list holds cannot be read back, so it
    // is sealed again for what is shown, or the mark goes.
    const earlier = marked.keys === '';
    if (entries === null || list === null) {
      await removeMark(t(earlier ? 'unmarkedEarlier' : 'unmarkedRecipientsChanged'));
      return;
    }
    try {
      await markSecure(item, can, { entries, seal: seal(), subjectKeyword: config.subjectKeyword, keys: shownKeys });
      marked = { keys: shownKeys, list };
      rememberPhones(storage, entries);
      setStatus('done', t(earlier ? 'markedAlready' : 'markUpdated'));
    } catch (error) {
      await removeMark(t('unmarkedUpdateFailed', { message: officeText(error) }));
    }
  }

  /** A number edited after marking: the mark follows it (on change, not on every keystroke). */
  async function numberChanged() {
    if (busy || marked === null) return;
    busy = true;
    try {
      await followMark();
    } finally {
      busy = false;
    }
    if (refreshAfterBusy) {
      refreshAfterBusy = false;
      refresh();
    }
  }

  async function refresh() {
    if (busy) {
      refreshAfterBusy = true;
      return;
    }
    const forItem = item;
    let recipients;
    try {
      recipients = await currentRecipients();
    } catch (error) {
      setStatus('error', t('errorRecipients', { message: officeText(error) }));
      return;
    }
    if (forItem !== item) return;
    render(recipients);
    if (!busy) setStatus('idle', '');
    busy = true;
    try {
      await followMark();
    } finally {
      busy = false;
    }
    if (refreshAfterBusy) {
      refreshAfterBusy = false;
      await refresh();
      return;
    }
    if (config.graphLookup && can.internetHeaders && can.nestedAppAuth) lookUp({ interactive: false });
  }

  // Graph lookup (optional): fills only empty fields the user has not typed in. Automatic look-ups
  // never open a popup; after a refused or cancelled sign-in only the sign-in button tries again.
  let tokenSource = null;
  async function lookUp({ interactive }) {
    const fields = rows
      .filter((row) => row.input && !typed.has(row.recipient.key) && row.input.value.trim() === '')
      .map((row) => ({ key: row.recipient.key, input: row.input, row }));
    if (fields.length === 0) {
      ui.signIn.hidden = true;
      return;
    }
    const started = { generation, submits };
    if (!busy) setStatus('working', t('lookingUp'));
    let result;
    try {
      tokenSource ??= await createTokenSource(await msalLoader(doc), config.signIn);
      result = await lookUpPhones({
        token: interactive ? tokenSource.interactive : tokenSource.silent,
        fetchImpl,
        addresses: fields.map((f) => f.key),
      });
    } catch {
      result = { ok: false, reason: 'signIn' };
    }
    // Dropped when a send started, the list was redrawn or the item changed meanwhile.
    if (busy || started.generation !== generation || started.submits !== submits) return;
    if (!result.ok) {
      if (result.reason === 'signIn') {
        ui.signIn.hidden = false;
        ui.signIn.disabled = false;
        setStatus('idle', t(interactive ? 'lookup_signIn' : 'lookup_signInNeeded'));
      } else {
        setStatus('error', t(`lookup_${result.reason}`));
      }
      return;
    }
    ui.signIn.hidden = true;
    // Read `typed` again: the user may have typed while the lookup ran.
    const current = fields.map((f) => ({ ...f, typed: typed.has(f.key) }));
    for (const key of prefillPhones(current, result.phones)) {
      const { row } = current.find((f) => f.key === key);
      checkRow(row, true);
      const hint = doc.getElementById(`${row.input.id}-hint`);
      if (hint) hint.textContent = t('phoneLookedUp');
    }
    if (result.failed?.length > 0) setStatus('idle', t('lookup_partial', { count: result.failed.length }));
    else setStatus('idle', '');
  }

  async function submit(event) {
    event.preventDefault();
    if (busy || !item) return;
    submits++;
    busy = true;
    ui.send.disabled = true;
    ui.refresh.disabled = true;
    ui.unmark.disabled = true;
    ui.form.setAttribute('aria-busy', 'true');
    try {
      await markAndSend();
    } finally {
      busy = false;
      ui.send.disabled = false;
      ui.refresh.disabled = false;
      ui.unmark.disabled = false;
      ui.form.removeAttribute('aria-busy');
      if (refreshAfterBusy) {
        refreshAfterBusy = false;
        refresh();
      }
    }
  }

  async function markAndSend() {
    // Outlook may not have told us about the latest recipients yet (RecipientsChanged comes late or,
    // unpinned, not at all): read them again and mark only what is shown.
    let recipients;
    try {
      recipients = await currentRecipients();
    } catch (error) {
      setStatus('error', t('errorRecipients', { message: officeText(error) }));
      return;
    }
    if (recipientKeys(recipients) !== shownKeys) {
      render(recipients);
      setStatus('error', t('recipientsChangedCheck'));
      return;
    }
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
    if (can.internetHeaders && entries.length > 0 && !isAgeRecipient(config.gatewayRecipient)) {
      setStatus('error', t('errorGatewayKey'));
      return;
    }

    setStatus('working', t('working'));
    let result;
    const keys = shownKeys;
    try {
      result = await markSecure(item, can, { entries, seal: seal(), subjectKeyword: config.subjectKeyword, keys });
    } catch (error) {
      if (error instanceof HeaderValueError) setStatus('error', t('errorAddress'));
      else if (error instanceof SealError) setStatus('error', t('errorGatewayKey'));
      else setStatus('error', t('errorOffice', { message: officeText(error) }));
      return;
    }
    marked = { keys, list: listOf(entries) };
    showMarked();
    // Remember only numbers that really went into the message.
    if (result.mode === 'headers') rememberPhones(storage, entries);

    const keyword = config.subjectKeyword;
    if (!can.send) {
      setStatus('done', t(result.mode === 'headers' ? 'donePressSend' : 'doneFallbackPressSend', { keyword }));
      return;
    }
    if (result.mode === 'headers') {
      let latest;
      try {
        latest = recipientKeys(await currentRecipients());
      } catch {
        latest = null;
      }
      if (latest !== keys) {
        await removeMark(t('errorChangedBeforeSend'));
        return;
      }
    }
    setStatus('working', t('sending'));
    try {
      await sendItem(item);
    } catch (error) {
      setStatus('error', t('errorSend', { message: officeText(error) }));
      return;
    }
    setStatus('done', t(result.mode === 'headers' ? 'doneSent' : 'doneFallbackSent', { keyword }));
  }

  async function removeMarkOnRequest() {
    if (busy || !item) return;
    busy = true;
    ui.unmark.disabled = true;
    try {
      await unmark(item, can, { subjectKeyword: config.subjectKeyword });
      marked = null;
      showMarked();
      setStatus('idle', t('unmarked'));
    } catch (error) {
      setStatus('error', t('errorUnmark', { message: officeText(error) }));
    } finally {
      busy = false;
      ui.unmark.disabled = false;
      if (refreshAfterBusy) {
        refreshAfterBusy = false;
        refresh();
      }
    }
  }

  /** Binds the pane to the item Outlook shows now (at start, and when a pinned pane moves to another). */
  async function bindItem(next) {
    generation++;
    item = next ?? null;
    can = capabilities(office, item);
    typed.clear();
    marked = null;
    fieldsError = false;
    rows = [];
    ui.list.replaceChildren();
    ui.signIn.hidden = true;
    showMarked();
    if (!item || typeof item.to?.getAsync !== 'function') {
      // Read mode, no item selected, or not a message: nothing to mark.
      item = null;
      ui.send.disabled = true;
      ui.refresh.disabled = true;
      ui.empty.hidden = true;
      setStatus('error', t('errorNoItem'));
      return;
    }
    ui.refresh.disabled = false;
    ui.intro.textContent = t(can.internetHeaders ? 'intro' : 'introFallback');
    ui.notice.textContent = t('fallbackNotice', { keyword: config.subjectKeyword });
    ui.notice.hidden = can.internetHeaders;
    if (can.recipientsChanged) {
      const bound = item;
      item.addHandlerAsync(office.EventType.RecipientsChanged, () => { if (bound === item) refresh(); });
    }
    try {
      if (await readMark(item, can, config.subjectKeyword)) marked = { keys: '', list: null };
    } catch {
      // Unknown: treated as not marked; marking again is harmless.
    }
    await refresh();
    if (marked !== null && marked.keys === '') {
      // Marked earlier (another pane, or before the pane was re-opened): from now on it follows the recipients.
      marked = { keys: shownKeys, list: null };
      setStatus('done', t('markedAlready'));
    }
    showMarked();
  }

  ui.form.addEventListener('submit', submit);
  ui.refresh.addEventListener('click', () => refresh());
  ui.unmark.addEventListener('click', removeMarkOnRequest);
  ui.signIn.addEventListener('click', () => { if (!busy) lookUp({ interactive: true }); });
  if (capabilities(office).itemChanged) {
    office.context.mailbox.addHandlerAsync(office.EventType.ItemChanged, () => bindItem(office.context.mailbox.item));
  }
  await bindItem(office.context.mailbox?.item);
}

/** A failure before the pane could start: the whole pane (heading included) in one language, then the message. */
function showFatal(language, key, params) {
  const t = translator(language);
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll('[data-text]')) element.textContent = t(element.dataset.text);
  const status = document.getElementById('status');
  document.getElementById('script-missing')?.remove();
  status.dataset.state = 'error';
  status.textContent = t(key, params);
}

const office = globalThis.Office;
if (office && typeof office.onReady === 'function') {
  office.onReady(() => {
    let storage = null;
    try { storage = globalThis.localStorage; } catch { /* blocked storage: nothing is remembered */ }
    startTaskpane({ office, storage, phoneLib: globalThis.libphonenumber }).catch((error) => {
      showFatal(languageFor(office.context?.displayLanguage ?? navigator.language), 'errorOffice', { message: officeText(error) });
    });
  });
} else {
  showFatal(languageFor(navigator.language), 'errorOfficeMissing');
}
