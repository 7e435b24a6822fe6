using System.Net;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace SecureMailbox.Vault.Notifications;

/// <summary>What a notification tells its reader.</summary>
public enum NotificationKind
{
    /// <summary>A secure message is waiting for the recipient.</summary>
    NewMessage,

    /// <summary>The sender's "sent securely" receipt.</summary>
    SentReceipt,
}

/// <summary>
/// Composes the neutral notifications (docs/rules.md E6): no message content, no request for credentials,
/// one link to the configured portal address; the subject only when the reader chose to see subjects.
/// Text and HTML, Swedish by default, English on request.
/// </summary>
public sealed class NotificationComposer(IOptions<SecureDeliveryOptions> options, IOptions<PortalOptions> portal, TimeProvider time, MailTexts texts)
{
    /// <summary>Marks mail the gateway composed so it is never processed again (D11).</summary>
    public const string ProcessedHeader = "X-SecureMailbox-Processed";

    /// <summary>The link for a token.</summary>
    public string LinkFor(string token) => portal.Value.UrlFor("l/" + token);

    /// <param name="kind">What the notification says.</param>
    /// <param name="to">The reader's address.</param>
    /// <param name="language">The reader's language (<c>sv</c> or <c>en</c>).</param>
    /// <param name="readerHasAccount">Whether the reader already has an active account (sign in) or will verify first (SMS code, password).</param>
    /// <param name="senderAddress">Who sent the message.</param>
    /// <param name="subject">The subject, only when the reader allowed it.</param>
    /// <param name="token">The link token.</param>
    public MimeMessage Compose(NotificationKind kind, string to, string language, bool readerHasAccount, string senderAddress, string? subject, string token)
    {
        var sv = !string.Equals(language, "en", StringComparison.OrdinalIgnoreCase);
        var link = LinkFor(token);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(options.Value.NotificationFromName, options.Value.NotificationFrom));
        message.To.Add(MailboxAddress.Parse(to));
        message.Date = time.GetUtcNow();
        message.MessageId = MimeUtils.GenerateMessageId(options.Value.NotificationFrom[(options.Value.NotificationFrom.IndexOf('@') + 1)..]);
        message.Headers.Add(ProcessedHeader, "notification");
        var safeSubject = subject is null ? null : OneLine(subject);
        var (title, lead, button, footer) = kind switch
        {
            NotificationKind.NewMessage => (
                safeSubject is null ? texts.Get(language, "NewMessageTitle", senderAddress) : texts.Get(language, "NewMessageTitleWithSubject", senderAddress, safeSubject),
                texts.Get(language, "NewMessageLead", senderAddress),
                texts.Get(language, "NewMessageButton"),
                texts.Get(language, readerHasAccount ? "NewMessageFooterAccount" : "NewMessageFooterNewReader")),
            _ => (
                texts.Get(language, "ReceiptTitle"),
                texts.Get(language, "ReceiptLead"),
                texts.Get(language, "ReceiptButton"),
                texts.Get(language, readerHasAccount ? "ReceiptFooterAccount" : "ReceiptFooterNewSender")),
        };
        message.Subject = title;
        var text = $"{lead}\r\n\r\n{button}: {link}\r\n\r\n{footer}\r\n";
        var html = $"""
            <!DOCTYPE html>
            <html lang="{(sv ? "sv" : "en")}"><head><meta charset="utf-8"><title>{WebUtility.HtmlEncode(title)}</title></head>
            <body style="font-family:Segoe UI,Arial,sans-serif;color:#1b1b1b;max-width:36em;margin:1em auto;line-height:1.5">
            <p>{WebUtility.HtmlEncode(lead)}</p>
            <p><a href="{WebUtility.HtmlEncode(link)}" style="display:inline-block;background:#0b5394;color:#ffffff;padding:.6em 1.2em;border-radius:4px;text-decoration:none">{WebUtility.HtmlEncode(button)}</a></p>
            <p style="font-size:90%;color:#444">{WebUtility.HtmlEncode(footer)}</p>
            </body></html>
            """;
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }

    /// <summary>A subject shown in a notification: one line, no control characters, at most 120 characters (S7).</summary>
    private static string OneLine(string value)
    {
        var clean = new string(value.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length <= 120 ? clean : clean[..117] + "...";
    }
}
