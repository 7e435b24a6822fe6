using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <param name="LockedSender">For a locked item (no metadata can be read): the sender's address, if known.</param>
public sealed record MailboxEntry(MailboxItem Item, MessageMetadata Metadata, string? LockedSender = null);

/// <summary>The signed-in account's items, always filtered by account (docs/rules.md A15).</summary>
public sealed class MailboxQueries(IDbContextFactory<VaultDbContext> vaultFactory, TimeProvider time, ILogger<MailboxQueries> logger)
{
    public async Task<List<MailboxEntry>> ListAsync(SignedInSession session, Folder folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var items = await db.MailboxItems.AsNoTracking()
            .Where(i => i.AccountId == session.AccountId && i.Folder == folder && i.PendingLinkId == null)
            .OrderByDescending(i => i.CreatedAt).Take(500).ToListAsync(cancellationToken);
        var entries = new List<MailboxEntry>(items.Count);
        foreach (var item in items)
        {
            // A locked item's metadata is for a key nobody holds any more: it is not even tried.
            var metadata = item.LockedAt is null ? await TryReadMetadataAsync(db, item, session, cancellationToken) : null;
            entries.Add(metadata is not null
                ? new MailboxEntry(item, metadata)
                : new MailboxEntry(item, new MessageMetadata(), await SenderAddressAsync(db, item.MessageId, cancellationToken)));
        }
        return entries;
    }

    /// <summary>
    /// The item's listing metadata, or null when the session's key does not open it: an item stored to the old key
    /// while a password reset replaced it, or damaged data. Such an item is locked from here on (one bad item never
    /// takes the whole list down); the read page then explains it and offers to ask the sender again.
    /// </summary>
    private async Task<MessageMetadata?> TryReadMetadataAsync(VaultDbContext db, MailboxItem item, SignedInSession session, CancellationToken cancellationToken)
    {
        try
        {
            return await VaultReader.ReadMetadataAsync(item.EncryptedMetadata, session.Key, cancellationToken);
        }
        catch (Exception exception) when (exception is Vault.Crypto.AgeException or FormatException or IOException or System.Text.Json.JsonException or System.Security.Cryptography.CryptographicException)
        {
            logger.LogWarning("Mailbox item {ItemId} of account {AccountId} does not open with the account key ({Error}): locked", item.Id, session.AccountId, exception.GetType().Name);
            item.LockedAt = time.GetUtcNow().UtcDateTime;
            await db.MailboxItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(s => s.SetProperty(i => i.LockedAt, item.LockedAt), cancellationToken);
            return null;
        }
    }

    /// <summary>The address of the message's sender (from the vault, not from the encrypted metadata), or null.</summary>
    public static async Task<string?> SenderAddressAsync(VaultDbContext db, Guid messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await (from message in db.Messages
                      where message.Id == messageId
                      join account in db.Accounts on message.SenderAccountId equals account.Id
                      select account.Email).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>The account's readable item and its message; null (and a log line) when it is not the account's.</summary>
    public Task<(MailboxItem Item, VaultMessage Message)?> FindAsync(SignedInSession session, Guid itemId, CancellationToken cancellationToken) =>
        FindAsync(session, itemId, includeLocked: false, cancellationToken);

    /// <summary>
    /// Like <see cref="FindAsync(SignedInSession, Guid, CancellationToken)"/>, locked items included: the read page shows
    /// them as locked (their stanza is for a key nobody holds); replying, attachments and export never see them.
    /// </summary>
    public Task<(MailboxItem Item, VaultMessage Message)?> FindIncludingLockedAsync(SignedInSession session, Guid itemId, CancellationToken cancellationToken) =>
        FindAsync(session, itemId, includeLocked: true, cancellationToken);

    private async Task<(MailboxItem Item, VaultMessage Message)?> FindAsync(SignedInSession session, Guid itemId, bool includeLocked, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var item = await db.MailboxItems.AsNoTracking().SingleOrDefaultAsync(i => i.Id == itemId, cancellationToken);
        if (item is null || item.AccountId != session.AccountId || item.PendingLinkId is not null || (item.LockedAt is not null && !includeLocked))
        {
            if (item is not null && item.AccountId != session.AccountId)
            {
                logger.LogWarning("Account {AccountId} asked for mailbox item {ItemId} of another account", session.AccountId, itemId);
            }
            return null;
        }
        var message = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == item.MessageId, cancellationToken);
        return (item, message);
    }

    /// <summary>Marks one of the account's items read or unread; false when it is not the account's.</summary>
    public async Task<bool> SetReadAsync(SignedInSession session, Guid itemId, bool read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        return await db.MailboxItems.Where(i => i.Id == itemId && i.AccountId == session.AccountId && i.PendingLinkId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.IsRead, read), cancellationToken) == 1;
    }
}
