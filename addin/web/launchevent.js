// OnMessageSend reminder (manifest.onsend.xml). A classic script, not a module, in plain
// ES5 with callbacks: classic Outlook on Windows runs it in its JavaScript-only runtime.
//
// If a message is not flagged as secure (no X-SecureMailbox header, no subject keyword) and
// its subject or body holds a Swedish personal identity number (personnummer or
// samordningsnummer) with a valid check digit, Outlook asks the user before sending.
// If it is flagged but its recipients are not the ones the task pane sealed the numbers for
// (the pane keeps that list in the item's session data, which is never sent), Outlook stops the
// send and asks the user to open the pane again.
/* global Office */
(function (root) {
  'use strict';

  // The portal writes the configured keywords between the markers when it serves this file.
  var SUBJECT_KEYWORDS = /*keywords*/['[secure]', '[s\u00e4ker]']/*end keywords*/;
  var MARKED_FOR_KEY = 'securemailbox.markedFor';

  var TEXTS = {
    en: {
      reminder: 'This message seems to contain a Swedish personal identity number but is not marked as secure. Send it securely with SecureMailbox, or send it anyway if it is not sensitive.',
      openPane: 'Send secure',
      changed: 'The recipients changed after the message was marked as secure, so their mobile numbers do not match. Open Send secure again before sending.',
    },
    sv: {
      reminder: 'Meddelandet verkar innehålla ett personnummer men är inte markerat som säkert. Skicka det säkert med SecureMailbox, eller skicka ändå om det inte är känsligt.',
      openPane: 'Skicka säkert',
      changed: 'Mottagarna ändrades efter att meddelandet markerades som säkert, så deras mobilnummer stämmer inte. Öppna Skicka säkert igen innan du skickar.',
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
      if (lower.indexOf(String(SUBJECT_KEYWORDS[i]).toLowerCase()) >= 0) return true;
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

  /** The recipients' lowercased addresses, sorted and joined as the task pane records them. */
  function recipientKeys(lists) {
    var seen = {};
    var keys = [];
    for (var l = 0; l < lists.length; l++) {
      var list = lists[l] || [];
      for (var i = 0; i < list.length; i++) {
        var key = String((list[i] && list[i].emailAddress) || '').replace(/^\s+|\s+$/g, '').toLowerCase();
        if (key && !seen[key]) { seen[key] = true; keys.push(key); }
      }
    }
    keys.sort();
    return keys.join('\n');
  }

  /** Calls done(true) when the recipients are not the ones the mark was made for. */
  function recipientsChanged(item, done) {
    if (!item.sessionData) return done(false);
    get(function (cb) { item.sessionData.getAsync(MARKED_FOR_KEY, cb); }, null, function (markedFor) {
      // Marked without the pane's record (another device, or a script): nothing to compare with.
      if (markedFor === null || markedFor === undefined || markedFor === '') return done(false);
      get(function (cb) { item.to.getAsync(cb); }, null, function (to) {
        get(function (cb) { item.cc.getAsync(cb); }, null, function (cc) {
          get(function (cb) { item.bcc.getAsync(cb); }, null, function (bcc) {
            // Recipients that cannot be read count as changed: the send is stopped, not let through.
            if (to === null || cc === null || bcc === null) return done(true);
            done(recipientKeys([to, cc, bcc]) !== String(markedFor));
          });
        });
      });
    });
  }

  function onMessageSendHandler(event) {
    var item = Office.context.mailbox.item;
    var allow = function () { event.completed({ allowEvent: true }); };
    var stopChanged = function () {
      var texts = TEXTS[language()];
      var options = { allowEvent: false, errorMessage: texts.changed };
      if (supported('1.14')) {
        options.cancelLabel = texts.openPane;
        options.commandId = 'SecureMailbox.Compose.SendSecure';
      }
      event.completed(options);
    };
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
      if (flags && String(flags['X-SecureMailbox'] || '').toLowerCase() === 'secure') {
        return recipientsChanged(item, function (changed) { return changed ? stopChanged() : allow(); });
      }
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

  root.SecureMailboxOnSend = {
    findIdentityNumbers: findIdentityNumbers,
    onMessageSendHandler: onMessageSendHandler,
    recipientKeys: recipientKeys,
    subjectKeywords: SUBJECT_KEYWORDS,
  };
  if (typeof Office !== 'undefined' && Office.actions && typeof Office.actions.associate === 'function') {
    Office.actions.associate('onMessageSendHandler', onMessageSendHandler);
  }
})(typeof self !== 'undefined' ? self : this);
