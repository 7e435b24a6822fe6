using Microsoft.EntityFrameworkCore;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// Trash and secure deletion (docs/rules.md property 7): deleting from Trash removes the item's stanza and metadata
/// (that reader's key material for the message); when no reader is left, the payload is overwritten and deleted.
/// </summary>
public sealed class TrashService(IDbContextFactory<VaultDbContext> vaultFactory, IBlobStore blobs, ILogger<TrashService> logger)
{
    public async Task<bool> MoveToTrashAsync(Guid accountId, Guid itemId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var item = await db.MailboxItems.SingleOrDefaultAsync(i => i.Id == itemId && i.AccountId == accountId, cancellationToken);
        if (item is null || item.Folder == Folder.Trash)
        {
            return item is not null;
        }
        item.PreviousFolder = item.Folder;
        item.Folder = Folder.Trash;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public async Task<bool> RestoreAsync(Guid accountId, Guid itemId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var item = await db.MailboxItems.SingleOrDefaultAsync(i => i.Id == itemId && i.AccountId == accountId && i.Folder == Folder.Trash, cancellationToken);
        if (item is null)
        {
            return false;
        }
        item.Folder = item.PreviousFolder ?? Folder.Inbox;
        item.PreviousFolder = null;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>Securely deletes one item from Trash.</summary>
    public async Task<bool> PurgeAsync(Guid accountId, Guid itemId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var item = await db.MailboxItems.SingleOrDefaultAsync(i => i.Id == itemId && i.AccountId == accountId && i.Folder == Folder.Trash, cancellationToken);
        if (item is null)
        {
            return false;
        }
        await PurgeItemsAsync(db, [item], cancellationToken);
        return true;
    }

    public async Task<int> EmptyAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var items = await db.MailboxItems.Where(i => i.AccountId == accountId && i.Folder == Folder.Trash).ToListAsync(cancellationToken);
        await PurgeItemsAsync(db, items, cancellationToken);
        return items.Count;
    }

    /// <summary>
    /// Removes the items (their stanzas and metadata) and securely deletes every message left without a reader.
    /// Also used by account deletion.
    /// </summary>
    internal async Task PurgeItemsAsync(VaultDbContext db, List<MailboxItem> items, CancellationToken cancellationToken)
    {
        var messageIds = items.Select(i => i.MessageId).Distinct().ToList();
        db.MailboxItems.RemoveRange(items);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var messageId in messageIds)
        {
            if (await db.MailboxItems.AnyAsync(i => i.MessageId == messageId, cancellationToken))
            {
                continue;
            }
            var message = await db.Messages.SingleOrDefaultAsync(m => m.Id == messageId, cancellationToken);
            if (message is null)
            {
                continue;
            }
            await blobs.SecureDeleteAsync(message.Region, message.BlobName, cancellationToken);
            // Links of the message (and any link keys left) go with it (cascade).
            db.Messages.Remove(message);
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Message {MessageId} securely deleted: no reader left", messageId);
        }
        // secure_delete has zeroed the rows in the database's pages; the write-ahead log still holds the pages as they
        // were until a checkpoint, so one is forced now (docs/rules.md property 7).
        await db.Database.FlushDeletedAsync(cancellationToken);
    }
}
