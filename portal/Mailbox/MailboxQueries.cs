using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

public sealed record MailboxEntry(MailboxItem Item, MessageMetadata Metadata);

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
            entries.Add(new MailboxEntry(item, await VaultReader.ReadMetadataAsync(item.EncryptedMetadata, session.Key, cancellationToken)));
        }
        return entries;
    }

    /// <summary>The account's item and its message; null (and a log line) when it is not the account's.</summary>
    public async Task<(MailboxItem Item, VaultMessage Message)?> FindAsync(SignedInSession session, Guid itemId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var item = await db.MailboxItems.AsNoTracking().SingleOrDefaultAsync(i => i.Id == itemId, cancellationToken);
        if (item is null || item.AccountId != session.AccountId || item.PendingLinkId is not null)
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
