using MimeKit;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Vault.Notifications;

/// <summary>
/// Stages one reader's neutral notification in the unit of work that stores the message (inside
/// <see cref="VaultWriter.StoreAsync"/>'s <c>beforeCommit</c>), so the message and its notifications become durable
/// together. Used by the gateway (incoming secure mail) and the portal (replies).
/// </summary>
public sealed class NotificationStager(OutboundQueue queue, NotificationComposer notifications)
{
    /// <param name="db">The store's unit of work.</param>
    /// <param name="reader">The reader to notify (its account decides the language and whether the subject may show).</param>
    /// <param name="kind">What the notification says.</param>
    /// <param name="senderAddress">Who sent the message.</param>
    /// <param name="subject">The subject, shown only when the reader allowed it.</param>
    /// <param name="queueId">A stable queue id (idempotent when the source is processed again).</param>
    /// <param name="cancellationToken">Cancels the content write.</param>
    public async Task StageAsync(VaultDbContext db, StoredReader reader, NotificationKind kind, string senderAddress, string? subject, string queueId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(reader);
        using var notification = notifications.Compose(kind, reader.Address, reader.Account.Language, reader.Account.State == AccountState.Active, senderAddress,
            reader.Account.ShowSubjectInNotifications ? subject : null, reader.Token);
        var contentName = await queue.WriteContentAsync(queueId, (stream, ct) => notification.WriteToAsync(FormatOptions.Default, stream, ct), cancellationToken);
        queue.Stage(db, new OutboundMessage
        {
            Id = queueId,
            Kind = OutboundKind.Notification,
            EnvelopeFrom = notification.From.Mailboxes.First().Address,
            ContentPath = contentName,
            ContentLength = new FileInfo(queue.ContentPathOf(contentName)).Length,
            Recipients = [new OutboundRecipient { Address = reader.Address }],
        });
    }
}
