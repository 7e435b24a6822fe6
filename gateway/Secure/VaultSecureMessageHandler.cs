using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Gateway.Delivery;
using SecureMailbox.Gateway.Spool;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Notifications;
using SecureMailbox.Vault.Outbound;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Gateway.Secure;

/// <summary>
/// The secure path: a flagged message is stored once in the vault, encrypted to each recipient and the sender,
/// and each recipient gets a neutral notification through the outbound queue. Recipients without an account and
/// without a usable mobile number get nothing; the sender gets one bounce that says how to add the number.
/// Notifications and the bounce are committed in the same transaction as the message.
/// </summary>
internal sealed class VaultSecureMessageHandler(
    VaultWriter writer,
    OutboundQueue queue,
    NotificationStager notifications,
    BounceComposer bounces,
    IOptions<ClassificationOptions> classification,
    AddinPhoneHeaders phoneHeaders,
    MailTexts texts,
    ILogger<VaultSecureMessageHandler> logger) : ISecureMessageHandler
{
    public bool IsAvailable => true;

    public async Task HandleAsync(string spoolPath, SpoolEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var file = new FileStream(spoolPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
        await using var window = new SubStream(file, 0, envelope.MessageLength);
        using var message = await MimeMessage.LoadAsync(window, persistent: true, cancellationToken);
        var phones = phoneHeaders.Read(message.Headers);
        MessageRewriter.RemovePrivateHeaders(message.Headers);
        var subject = RemoveKeywords(message.Subject ?? "");
        if (!string.Equals(subject, message.Subject ?? "", StringComparison.Ordinal))
        {
            message.Subject = subject;
        }
        var metadata = new MessageMetadata
        {
            Subject = subject,
            FromAddress = message.From.Mailboxes.FirstOrDefault()?.Address ?? envelope.From,
            FromName = message.From.Mailboxes.FirstOrDefault()?.Name ?? "",
            To = message.To.Mailboxes.Select(m => m.ToString()).ToList(),
            Cc = message.Cc.Mailboxes.Select(m => m.ToString()).ToList(),
            Date = message.Date == DateTimeOffset.MinValue ? envelope.ReceivedAt : message.Date,
            Size = envelope.MessageLength,
            Attachments = message.Attachments.Select(a => new AttachmentInfo
            {
                FileName = a.ContentDisposition?.FileName ?? a.ContentType.Name ?? "attachment",
                ContentType = a.ContentType.MimeType,
            }).ToList(),
        };
        var recipients = envelope.To.Select(a => new RecipientRequest(a, phones.GetValueOrDefault(VaultWriter.Normalise(a)))).ToList();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        var messageId = VaultWriter.MessageIdFor(envelope.Id);
        var result = await writer.StoreAsync(
            messageId,
            envelope.From,
            recipients,
            metadata,
            (stream, ct) => message.WriteToAsync(format, stream, ct),
            (db, stored, ct) => QueueMailAsync(db, envelope, message.Headers, metadata, stored, ct),
            cancellationToken);
        queue.Notify();
        if (result.AlreadyStored)
        {
            logger.LogInformation("Spool entry {SpoolId} was already vaulted as {MessageId}", envelope.Id, messageId);
            return;
        }
        if (result.Readers.Count == 0)
        {
            // Nobody could be reached securely: nothing was stored, only the sender hears of it.
            var bounce = await WriteBounceAsync(envelope, message.Headers, result.Refused, null, cancellationToken);
            await queue.EnqueueAsync(bounce, cancellationToken);
        }
    }

    private async Task QueueMailAsync(VaultDbContext db, SpoolEnvelope envelope, HeaderList headers, MessageMetadata metadata, StoreResult stored, CancellationToken cancellationToken)
    {
        var index = 0;
        foreach (var reader in stored.Readers)
        {
            NotificationKind kind;
            if (!reader.IsSender)
            {
                kind = NotificationKind.NewMessage;
            }
            else if (stored.SenderOrganisation?.SendReceipts ?? true)
            {
                kind = NotificationKind.SentReceipt;
            }
            else
            {
                continue;
            }
            await notifications.StageAsync(db, reader, kind, envelope.From, metadata.Subject, $"{envelope.Id}n{index++}", cancellationToken);
        }
        if (stored.Refused.Count > 0)
        {
            queue.Stage(db, await WriteBounceAsync(envelope, headers, stored.Refused, stored.Readers.FirstOrDefault(r => r.IsSender)?.Account, cancellationToken));
        }
    }

    private async Task<OutboundMessage> WriteBounceAsync(SpoolEnvelope envelope, HeaderList headers, IReadOnlyList<RefusedRecipient> refused, Account? sender, CancellationToken cancellationToken)
    {
        var original = new OutboundMessage { Id = envelope.Id, EnvelopeFrom = envelope.From, EnvelopeId = envelope.EnvelopeId, ContentPath = "", CreatedAt = envelope.ReceivedAt.UtcDateTime };
        var failed = refused.Select(r => new OutboundRecipient { Address = r.Address, LastResponse = $"550 5.1.10 secure delivery needs the recipient's mobile number: {r.Reason}" }).ToList();
        using var bounce = bounces.Compose(original, headers, failed, MissingPhoneExplanation(sender));
        var id = $"{envelope.Id}b0";
        var contentName = await queue.WriteContentAsync(id, (stream, ct) => bounce.WriteToAsync(FormatOptions.Default, stream, ct), cancellationToken);
        logger.LogWarning("Secure message {SpoolId}: {Count} recipients have no usable mobile number; the sender gets a bounce", envelope.Id, refused.Count);
        return new OutboundMessage
        {
            Id = id,
            Kind = OutboundKind.Bounce,
            EnvelopeFrom = "",
            ContentPath = contentName,
            ContentLength = new FileInfo(queue.ContentPathOf(contentName)).Length,
            Recipients = [new OutboundRecipient { Address = envelope.From }],
        };
    }

    /// <summary>Why some recipients got nothing: in the sender's language when the sender has chosen one (an active account), else in both.</summary>
    private string MissingPhoneExplanation(Account? sender) =>
        sender is { State: AccountState.Active }
            ? texts.Get(sender.Language, "MissingPhoneExplanation")
            : texts.Get("sv", "MissingPhoneExplanation") + "\n\n" + texts.Get("en", "MissingPhoneExplanation");

    private string RemoveKeywords(string subject)
    {
        foreach (var keyword in classification.Value.EffectiveSubjectKeywords)
        {
            var at = subject.IndexOf(keyword, StringComparison.OrdinalIgnoreCase);
            while (at >= 0)
            {
                subject = subject.Remove(at, keyword.Length);
                at = subject.IndexOf(keyword, StringComparison.OrdinalIgnoreCase);
            }
        }
        return string.Join(' ', subject.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
