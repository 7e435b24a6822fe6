// OnMessageSend reminder (manifest.onsend.xml). A classic script, not a module, in plain
// ES5 with callbacks: classic Outlook on Windows runs it in its JavaScript-only runtime.
//
// If a message is not flagged as secure (no X-SecureMailbox header, no subject keyword) and
// its subject or body holds a Swedish personal identity number (personnummer or
// samordningsnummer) with a valid check digit, Outlook asks the user before sending.
/* global Office */
(function (root) {
  'use strict';

  var SUBJECT_KEYWORDS = ['[secure]', '[säker]'];

  var TEXTS = {
    en: {
      reminder: 'This message seems to contain a Swedish personal identity number but is not marked as secure. Send it securely with SecureMailbox, or send it anyway if it is not sensitive.',
      openPane: 'Send secure',
    },
    sv: {
      reminder: 'Meddelandet verkar innehålla ett personnummer men är inte markerat som säkert. Skicka det säkert med SecureMailbox, eller skicka ändå om det inte är känsligt.',
      openPane: 'Skicka säkert',
    },
  };

  // 12 digits (YYYYMMDD[-+]NNNN) or 10 digits with a separator (YYMMDD-NNNN, YYMMDD+NNNN).
  // Ten digits without a separator are left out: too many phone numbers look like that.
  var PATTERN = /(^|[^0-9])(?:(18|19|20)([0-9]{2})([0-9]{2})([0-9]{2})[-+]?([0-9]{4})|([0-9]{2})([0-9]{2})([0-9]{2})[-+]([0-9]{4}))(?![0-9])/g;

  function luhnValid(tenDigits) {
    var sum = 0;
    for (var i = 0; i < 10; i++) {
      var digit = tenDigits.charCodeAt(i) - 48;
      var product = i % 2 === 0 ? digit * 2 : digit;
      sum += product > 9 ? product - 9 : product;
    }
    return sum % 10 === 0;
  }

  function dateValid(century, yy, mm, dd) {
    var month = parseInt(mm, 10);
    var day = parseInt(dd, 10);
    if (day > 60) day -= 60; // samordningsnummer: day + 60
    if (month < 1 || month > 12 || day < 1) return false;
    var days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    if (month === 2 && century) {
      var year = parseInt(century + yy, 10);
      var leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
      days = leap ? 29 : 28;
    }
    return day <= days;
  }

  /** The valid identity numbers in the text, as YYMMDDNNNN strings. */
  function findIdentityNumbers(text) {
    var found = [];
    var match;
    PATTERN.lastIndex = 0;
    while ((match = PATTERN.exec(String(text || ''))) !== null) {
      var century = match[2] || '';
      var yy = match[3] || match[7];
      var mm = match[4] || match[8];
      var dd = match[5] || match[9];
      var serial = match[6] || match[10];
      var ten = yy + mm + dd + serial;
      if (dateValid(century, yy, mm, dd) && luhnValid(ten)) found.push(ten);
    }
    return found;
  }

  function hasKeyword(subject) {
    var lower = String(subject || '').toLowerCase();
    for (var i = 0; i < SUBJECT_KEYWORDS.length; i++) {
      if (lower.indexOf(SUBJECT_KEYWORDS[i]) >= 0) return true;
    }
    return false;
  }

  function language() {
    var display = (Office.context && Office.context.displayLanguage) || '';
    return /^sv(?:[-_]|$)/i.test(display) ? 'sv' : 'en';
  }

  function supported(version) {
    var requirements = Office.context && Office.context.requirements;
    return Boolean(requirements && requirements.isSetSupported('Mailbox', version));
  }

  function get(getter, fallback, done) {
    try {
      getter(function (result) {
        done(result && result.status === 'succeeded' ? result.value : fallback);
      });
    } catch (e) {
      done(fallback);
    }
  }

  function onMessageSendHandler(event) {
    var item = Office.context.mailbox.item;
    var allow = function () { event.completed({ allowEvent: true }); };
    var remind = function () {
      var texts = TEXTS[language()];
      var options = { allowEvent: false, errorMessage: texts.reminder };
      if (supported('1.14')) {
        // Mailbox 1.14: the dialog's other button opens our task pane.
        options.cancelLabel = texts.openPane;
        options.commandId = 'SecureMailbox.Compose.SendSecure';
      }
      event.completed(options);
    };

    var headers = item.internetHeaders;
    get(function (cb) {
      if (!headers) return cb({ status: 'succeeded', value: {} });
      headers.getAsync(['X-SecureMailbox'], cb);
    }, {}, function (flags) {
      if (flags && String(flags['X-SecureMailbox'] || '').toLowerCase() === 'secure') return allow();
      get(function (cb) { item.subject.getAsync(cb); }, '', function (subject) {
        if (hasKeyword(subject)) return allow();
        get(function (cb) { item.body.getAsync('text', cb); }, '', function (body) {
          // When the body cannot be read, do not stand in the user's way.
          if (findIdentityNumbers(subject).length > 0 || findIdentityNumbers(body).length > 0) return remind();
          return allow();
        });
      });
    });
  }

  root.SecureMailboxOnSend = { findIdentityNumbers: findIdentityNumbers, onMessageSendHandler: onMessageSendHandler };
  if (typeof Office !== 'undefined' && Office.actions && typeof Office.actions.associate === 'function') {
    Office.actions.associate('onMessageSendHandler', onMessageSendHandler);
  }
})(typeof self !== 'undefined' ? self : this);
