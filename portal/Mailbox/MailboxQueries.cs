using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <param name="LockedSender">For a locked item (no metadata can be read): the sender's address, if known.</param>
public sealed record MailboxEntry(MailboxItem Item, MessageMetadata Metadata, string? LockedSender = null);

/// <summary>The signed-in account's items, always filtered by account (SECURITY.md A15).</summary>
public sealed class MailboxQueries(IDbContextFactory<VaultDbContext> vaultFactory, ILogger<MailboxQueries> logger)
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
            entries.Add(item.LockedAt is null
                ? new MailboxEntry(item, await VaultReader.ReadMetadataAsync(item.EncryptedMetadata, session.Key, cancellationToken))
                : new MailboxEntry(item, new MessageMetadata(), await SenderAddressAsync(db, item.MessageId, cancellationToken)));
        }
        return entries;
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

    public async Task MarkReadAsync(Guid itemId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        await db.MailboxItems.Where(i => i.Id == itemId).ExecuteUpdateAsync(s => s.SetProperty(i => i.IsRead, true), cancellationToken);
    }
}
