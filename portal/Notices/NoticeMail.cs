using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Notifications;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Portal.Notices;

/// <summary>
/// A plain-text mail from the notification address into the durable outbound queue (the gateway's delivery worker
/// sends it). For notices about an account or a message: they never carry message content, codes or links with
/// secrets.
/// </summary>
public sealed class NoticeMail(OutboundQueue queue, IOptions<SecureDeliveryOptions> delivery, TimeProvider time)
{
    public async Task QueueAsync(string to, string subject, string text, CancellationToken cancellationToken)
    {
        using var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress(delivery.Value.NotificationFromName, delivery.Value.NotificationFrom));
        mail.To.Add(MailboxAddress.Parse(to));
        mail.Subject = subject;
        mail.Date = time.GetUtcNow();
        mail.Headers.Add(NotificationComposer.ProcessedHeader, "notice");
        mail.Body = new TextPart("plain") { Text = text };
        var id = queue.NewId() + "s";
        var contentName = await queue.WriteContentAsync(id, (stream, ct) => mail.WriteToAsync(FormatOptions.Default, stream, ct), cancellationToken);
        await queue.EnqueueAsync(new OutboundMessage
        {
            Id = id,
            Kind = OutboundKind.Notification,
            EnvelopeFrom = delivery.Value.NotificationFrom,
            ContentPath = contentName,
            ContentLength = new FileInfo(queue.ContentPathOf(contentName)).Length,
            Recipients = [new OutboundRecipient { Address = to }],
        }, cancellationToken);
    }
}
