#!/usr/bin/env python3
"""Writes the portal's .resx files (Swedish default, English) from the table below: edit here, run, commit both."""
import os
from xml.sax.saxutils import escape

TEXTS = {
    "AlreadyHaveAccount": ("Du har redan ett konto. Logga in så läggs meddelandet till i din inkorg.", "You already have an account. Sign in and the message is added to your inbox."),
    "AttachFiles": ("Bifoga filer", "Attach files"),
    "AttachHint": ("Högst {0} MB totalt.", "At most {0} MB in total."),
    "Attachments": ("Bilagor", "Attachments"),
    "Cancel": ("Avbryt", "Cancel"),
    "Cc": ("Kopia", "Cc"),
    "ChoosePassword": ("Välj ett lösenord", "Choose a password"),
    "CodeExpired": ("Koden har gått ut. Skicka en ny kod.", "The code has expired. Send a new code."),
    "CodeLabel": ("Kod från SMS (6 siffror)", "Code from the SMS (6 digits)"),
    "CodeNone": ("Skicka en kod först.", "Send a code first."),
    "CodeSent": ("Vi har skickat en kod. Den gäller i 10 minuter.", "We have sent a code. It is valid for 10 minutes."),
    "CodeTooManyChecks": ("För många felaktiga försök. Skicka en ny kod.", "Too many wrong attempts. Send a new code."),
    "CodeWrong": ("Fel kod. Försök igen.", "Wrong code. Try again."),
    "ConfirmPassword": ("Upprepa lösenordet", "Repeat the password"),
    "ConfirmWithPassword": ("Bekräfta med ditt lösenord", "Confirm with your password"),
    "Continue": ("Fortsätt", "Continue"),
    "CountryNotAllowed": ("Vi kan inte skicka SMS till det här numret. Be avsändaren kontrollera numret.", "We cannot send SMS to this number. Ask the sender to check the number."),
    "CreateAccount": ("Skapa konto och läs meddelandet", "Create account and read the message"),
    "Date": ("Datum", "Date"),
    "Delete": ("Ta bort", "Delete"),
    "DeleteForever": ("Radera för alltid", "Delete forever"),
    "Email": ("E-postadress", "E-mail address"),
    "EmptyTrash": ("Töm papperskorgen", "Empty trash"),
    "EmptyTrashHint": ("Meddelanden i papperskorgen raderas omedelbart och går inte att återskapa.", "Messages in the trash are deleted at once and cannot be recovered."),
    "Error400Title": ("Felaktig begäran", "Bad request"),
    "Error400Text": ("Begäran kunde inte behandlas. Ladda om sidan och försök igen.", "The request could not be processed. Reload the page and try again."),
    "Error403Title": ("Inte tillåtet", "Not allowed"),
    "Error403Text": ("Du har inte behörighet till den här sidan.", "You may not open this page."),
    "Error404Title": ("Sidan finns inte", "Not found"),
    "Error404Text": ("Länken är ogiltig, har redan använts eller har gått ut. Har du redan ett konto? Logga in för att läsa dina meddelanden.", "The link is not valid, has already been used or has expired. Already have an account? Sign in to read your messages."),
    "Error413Title": ("För stort", "Too large"),
    "Error413Text": ("Det du skickade är för stort.", "What you sent is too large."),
    "Error429Title": ("För många försök", "Too many attempts"),
    "Error429Text": ("Vänta en stund och försök igen.", "Wait a while and try again."),
    "Error500Title": ("Något gick fel", "Something went wrong"),
    "Error500Text": ("Meddelandet eller sidan kunde inte visas. Inget innehåll har visats. Försök igen senare eller kontakta supporten.", "The message or page could not be shown. No content was shown. Try again later or contact support."),
    "ExportButton": ("Exportera min brevlåda", "Export my mailbox"),
    "ExportText": ("Du får en zip-fil med din privata nyckel och alla dina meddelanden som age-filer, som du kan öppna med verktyget age.", "You get a zip file with your private key and all your messages as age files, which the age tool opens."),
    "ExportTitle": ("Exportera min brevlåda", "Export my mailbox"),
    "ExportWarning": ("Varning: filen identity.txt i exporten är din privata nyckel. Den som har den kan läsa alla dina meddelanden.", "Warning: the file identity.txt in the export is your private key. Anyone who has it can read all your messages."),
    "FolderEmpty": ("Inga meddelanden.", "No messages."),
    "From": ("Från", "From"),
    "GoToSignIn": ("Till inloggningen", "Go to sign-in"),
    "ImagesBlocked": ("Bilder från internet visas inte.", "Images from the internet are not shown."),
    "Inbox": ("Inkorg", "Inbox"),
    "Language": ("Språk", "Language"),
    "MainNavigation": ("Huvudmeny", "Main menu"),
    "MessageBody": ("Meddelandets innehåll", "Message content"),
    "NoSmsQuestion": ("Fick du inget SMS?", "Didn't get an SMS?"),
    "NoSmsText": ("Om numret är fel behöver avsändaren ange ditt rätta nummer. Vi kan meddela avsändaren åt dig (utan meddelandets innehåll).", "If the number is wrong, the sender needs to give your correct number. We can tell the sender for you (without the message's content)."),
    "NoSubject": ("(inget ämne)", "(no subject)"),
    "NotifySender": ("Meddela avsändaren", "Notify the sender"),
    "OpenMessageButton": ("Öppna meddelandet", "Open the message"),
    "OpenMessageText": ("Någon har skickat ett krypterat meddelande till dig med SecureMailbox. För att läsa det bekräftar du ditt mobilnummer med en SMS-kod och väljer ett lösenord. Kontot är kostnadsfritt.", "Someone has sent you an encrypted message with SecureMailbox. To read it, confirm your mobile number with an SMS code and choose a password. The account is free."),
    "OpenMessageTitle": ("Du har fått ett säkert meddelande", "You have received a secure message"),
    "Password": ("Lösenord", "Password"),
    "PasswordCommon": ("Lösenordet är för vanligt. Välj ett annat, gärna en mening med flera ord.", "This password is too common. Choose another, for example a sentence of several words."),
    "PasswordControl": ("Lösenordet innehåller otillåtna tecken.", "The password contains characters that are not allowed."),
    "PasswordHint": ("Minst 8 tecken, gärna 15 eller fler. Alla tecken är tillåtna.", "At least 8 characters, 15 or more is better. Any characters are allowed."),
    "PasswordMismatch": ("Lösenorden är inte lika.", "The passwords do not match."),
    "PasswordTooLong": ("Lösenordet får vara högst 256 tecken.", "The password may be at most 256 characters."),
    "PasswordTooShort": ("Lösenordet måste vara minst 8 tecken.", "The password must be at least 8 characters."),
    "RecipientsNotReached": ("Svaret skickades, men {0} mottagare kunde inte nås säkert (inget konto och inget mobilnummer).", "The reply was sent, but {0} recipients could not be reached securely (no account and no mobile number)."),
    "Reply": ("Svara", "Reply"),
    "ReplyAll": ("Svara alla", "Reply all"),
    "ReplyInvalid": ("Skriv ett svar (bilagor högst 25 MB).", "Write a reply (attachments at most 25 MB)."),
    "ReplyNobody": ("Svaret kunde inte skickas till någon mottagare.", "The reply could not be sent to any recipient."),
    "Restore": ("Återställ", "Restore"),
    "Save": ("Spara", "Save"),
    "Saved": ("Sparat.", "Saved."),
    "SendAgain": ("Skicka en ny kod", "Send a new code"),
    "SendCode": ("Skicka kod", "Send code"),
    "SendSecurely": ("Skicka säkert", "Send securely"),
    "SenderLinkText": ("Länken skickades till din e-postadress och bekräftar den. Välj ett lösenord för att aktivera ditt konto.", "The link was sent to your e-mail address and confirms it. Choose a password to activate your account."),
    "SenderNotified": ("Vi har meddelat avsändaren att numret verkar vara fel.", "We have told the sender that the number seems to be wrong."),
    "Sent": ("Skickat", "Sent"),
    "Sessions": ("Inloggningar", "Sessions"),
    "Settings": ("Inställningar", "Settings"),
    "ShowImages": ("Visa bilder", "Show images"),
    "ShowSubjectHint": ("Ämnesraden skickas då okrypterad i e-post eller SMS. Standard är neutrala notifieringar.", "The subject is then sent unencrypted by e-mail or SMS. Neutral notifications are the default."),
    "ShowSubjectInNotifications": ("Visa ämnesraden i notifieringar", "Show the subject in notifications"),
    "SignIn": ("Logga in", "Sign in"),
    "SignInFailed": ("Fel e-postadress eller lösenord.", "Wrong e-mail address or password."),
    "SignInThrottled": ("För många försök. Vänta en stund och försök igen.", "Too many attempts. Wait a while and try again."),
    "SignOut": ("Logga ut", "Sign out"),
    "SignOutEverywhere": ("Logga ut överallt", "Sign out everywhere"),
    "SkipToContent": ("Hoppa till innehållet", "Skip to content"),
    "SmsCodeText": ("Din SecureMailbox-kod är {0}. Den gäller i 10 minuter. Lämna aldrig ut koden till någon.", "Your SecureMailbox code is {0}. It is valid for 10 minutes. Never give the code to anyone."),
    "Subject": ("Ämne", "Subject"),
    "To": ("Till", "To"),
    "TooManyCodes": ("För många koder har skickats. Försök igen senare.", "Too many codes have been sent. Try again later."),
    "Trash": ("Papperskorg", "Trash"),
    "Unread": ("oläst", "unread"),
    "Verify": ("Bekräfta", "Verify"),
    "VerifyText": ("Vi skickar en kod med SMS till {0}, numret som avsändaren angav.", "We send a code by SMS to {0}, the number the sender gave."),
    "VerifyTitle": ("Bekräfta att det är du", "Confirm it is you"),
    "WaitBeforeResend": ("Vänta {0} sekunder innan du ber om en ny kod.", "Wait {0} seconds before asking for a new code."),
    "WelcomeText": ("Välj ett lösenord för {0}. Du loggar in med din e-postadress och lösenordet nästa gång.", "Choose a password for {0}. Next time you sign in with your e-mail address and this password."),
    "WelcomeTitle": ("Välj lösenord", "Choose a password"),
    "YourReply": ("Ditt svar", "Your reply"),
}

HEADER = """<?xml version="1.0" encoding="utf-8"?>
<root>
  <resheader name="resmimetype"><value>text/microsoft-resx</value></resheader>
  <resheader name="version"><value>2.0</value></resheader>
  <resheader name="reader"><value>System.Resources.ResXResourceReader, System.Windows.Forms, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089</value></resheader>
  <resheader name="writer"><value>System.Resources.ResXResourceWriter, System.Windows.Forms, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089</value></resheader>
"""

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "portal", "Resources", "Localization")
os.makedirs(here, exist_ok=True)
for suffix, index in (("", 0), (".en", 1)):
    with open(os.path.join(here, f"SharedResource{suffix}.resx"), "w", encoding="utf-8") as f:
        f.write(HEADER)
        for key in sorted(TEXTS):
            f.write(f'  <data name="{key}" xml:space="preserve"><value>{escape(TEXTS[key][index])}</value></data>\n')
        f.write("</root>\n")
