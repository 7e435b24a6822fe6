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
/// Composes the neutral notifications (DESIGN.md, SECURITY.md E6): no message content, no request for credentials,
/// one link to the configured portal address; the subject only when the reader chose to see subjects.
/// Text and HTML, Swedish by default, English on request.
/// </summary>
public sealed class NotificationComposer(IOptions<SecureDeliveryOptions> options, IOptions<PortalOptions> portal, TimeProvider time)
{
    /// <summary>Marks mail the gateway composed so it is never processed again (D11).</summary>
    public const string ProcessedHeader = "X-SecureMailbox-Processed";

    /// <summary>The link for a token.</summary>
    public string LinkFor(string token) => portal.Value.UrlFor("l/" + token);

    public MimeMessage Compose(NotificationKind kind, string to, string language, string senderAddress, string? subject, string token)
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
        var (title, lead, button, footer) = (kind, sv) switch
        {
            (NotificationKind.NewMessage, true) => (
                safeSubject is null ? $"Säkert meddelande från {senderAddress}" : $"Säkert meddelande från {senderAddress}: {safeSubject}",
                $"{senderAddress} har skickat ett krypterat meddelande till dig via SecureMailbox.",
                "Läs meddelandet",
                "Första gången bekräftar du med en sms-kod och väljer ett lösenord. Vi ber dig aldrig om lösenord eller koder i e-post."),
            (NotificationKind.NewMessage, false) => (
                safeSubject is null ? $"Secure message from {senderAddress}" : $"Secure message from {senderAddress}: {safeSubject}",
                $"{senderAddress} has sent you an encrypted message through SecureMailbox.",
                "Read the message",
                "The first time, you confirm with an SMS code and choose a password. We never ask for passwords or codes by e-mail."),
            (NotificationKind.SentReceipt, true) => (
                "Ditt meddelande skickades säkert",
                "Ditt meddelande har krypterats och mottagarna har fått en avisering.",
                "Öppna SecureMailbox",
                "Via länken kan du aktivera ditt konto och läsa svar. Vi ber dig aldrig om lösenord eller koder i e-post."),
            _ => (
                "Your message was sent securely",
                "Your message was encrypted and its recipients were notified.",
                "Open SecureMailbox",
                "With the link you can activate your account and read replies. We never ask for passwords or codes by e-mail."),
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
