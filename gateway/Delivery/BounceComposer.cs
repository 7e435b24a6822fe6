using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Text;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// Composes delivery status notifications (RFC 3464 inside RFC 6522 multipart/report): a readable explanation,
/// the machine-readable status per failed recipient, and the original headers only (never the content).
/// </summary>
public sealed class BounceComposer(IOptions<SmtpOptions> smtp, TimeProvider time)
{
    /// <summary>The header that marks what the gateway itself composed, so it is never processed twice (D11).</summary>
    public const string ProcessedHeader = "X-SecureMailbox-Processed";

    /// <param name="to">Where the report goes: the envelope sender unless given (the postmaster, for a double bounce).</param>
    public MimeMessage Compose(OutboundMessage original, HeaderList? originalHeaders, IReadOnlyList<OutboundRecipient> failed, string? explanation = null, string? to = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(failed);
        var serverName = smtp.Value.ServerName;
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{serverName}"));
        message.To.Add(MailboxAddress.Parse(to ?? original.EnvelopeFrom));
        message.Subject = to is null ? "Undelivered Mail Returned to Sender" : "Undelivered mail held in the queue for the postmaster";
        message.Date = time.GetUtcNow();
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(serverName);
        message.Headers.Add("Auto-Submitted", "auto-replied");
        message.Headers.Add(ProcessedHeader, "bounce");
        var originalSubject = originalHeaders?[HeaderId.Subject];
        if (originalHeaders?[HeaderId.MessageId] is { } originalId)
        {
            message.InReplyTo = originalId;
        }

        var text = new StringBuilder();
        text.Append("This is the mail system at ").Append(serverName).Append(".\n\n");
        text.Append("Your message could not be delivered to one or more recipients.\n");
        if (!string.IsNullOrEmpty(originalSubject))
        {
            text.Append("Subject: ").Append(originalSubject).Append('\n');
        }
        if (explanation is not null)
        {
            text.Append('\n').Append(explanation).Append('\n');
        }
        text.Append('\n');
        foreach (var recipient in failed)
        {
            text.Append('<').Append(recipient.Address).Append(">: ").Append(recipient.LastResponse ?? "failed").Append('\n');
        }

        var report = new MultipartReport("delivery-status");
        report.Add(new TextPart(TextFormat.Plain) { Text = text.ToString() });
        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList
        {
            { "Reporting-MTA", $"dns; {serverName}" },
            { "X-Queue-ID", original.Id },
            { "Arrival-Date", MimeKit.Utils.DateUtils.FormatDate(new DateTimeOffset(original.CreatedAt, TimeSpan.Zero)) },
        };
        if (!string.IsNullOrEmpty(original.EnvelopeId))
        {
            perMessage.Insert(0, new Header("Original-Envelope-Id", original.EnvelopeId));
        }
        status.StatusGroups.Add(perMessage);
        foreach (var recipient in failed)
        {
            var response = recipient.LastResponse ?? "";
            status.StatusGroups.Add(new HeaderList
            {
                { "Final-Recipient", $"rfc822; {recipient.Address}" },
                { "Action", "failed" },
                { "Status", StatusOf(response) },
                { "Diagnostic-Code", $"smtp; {SingleLine(response)}" },
            });
        }
        report.Add(status);
        if (originalHeaders is not null)
        {
            using var headerBytes = new MemoryStream();
            originalHeaders.WriteTo(headerBytes);
            report.Add(new MimePart("text", "rfc822-headers") { Content = new MimeContent(new MemoryStream(headerBytes.ToArray())) });
        }
        message.Body = report;
        return message;
    }

    /// <summary>The enhanced status code in a reply, or a generic permanent failure.</summary>
    private static string StatusOf(string response)
    {
        var match = System.Text.RegularExpressions.Regex.Match(response, @"\b([245]\.\d{1,3}\.\d{1,3})\b");
        return match.Success ? match.Groups[1].Value : (response.StartsWith('4') ? "4.0.0" : "5.0.0");
    }

    private static string SingleLine(string value) => value.Replace('\r', ' ').Replace('\n', ' ');
}
