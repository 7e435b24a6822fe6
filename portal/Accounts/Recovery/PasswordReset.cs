using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Accounts.Recovery;

/// <summary>A message that an SMS-only reset leaves locked: what the page can say without the key (no subject).</summary>
public sealed record LockedMessage(Folder Folder, DateTime Date, string? SenderAddress);

/// <summary>
/// "Glömt ditt lösenord": the two ways a password is reset (docs/rules.md A10).
/// With a backup code the code's copy of the key is re-wrapped under the new password and nothing is lost.
/// With an SMS code alone the server holds no copy of the key it could use, and must not gain one: the account gets a
/// new key pair, every wrap of the old key is deleted, and the messages encrypted to the old key stay locked.
/// Either way every session, pending sign-in and recovery of the account ends.
/// </summary>
public sealed class PasswordReset(
    IDbContextFactory<VaultDbContext> vaultFactory,
    IDbContextFactory<PortalDbContext> dbFactory,
    SessionStore sessions,
    RecoveryRequests recoveries,
    AccountKeys keys,
    TimeProvider time,
    ILogger<PasswordReset> logger)
{
    /// <summary>The account's messages that a reset with a new key locks (or that are locked already), newest first.</summary>
    public async Task<IReadOnlyList<LockedMessage>> MessagesToLockAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        return await (from item in db.MailboxItems
                      where item.AccountId == accountId && item.PendingLinkId == null
                      join message in db.Messages on item.MessageId equals message.Id
                      join sender in db.Accounts on message.SenderAccountId equals sender.Id into senders
                      from sender in senders.DefaultIfEmpty()
                      orderby item.CreatedAt descending
                      select new LockedMessage(item.Folder, item.CreatedAt, sender == null ? null : sender.Email))
            .ToListAsync(cancellationToken);
    }

    /// <summary>The same key under a new password (the backup-code path).</summary>
    public async Task RewrapAsync(Guid accountId, AgeIdentity key, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using (var db = await vaultFactory.CreateDbContextAsync(cancellationToken))
        {
            var publicKey = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).SingleAsync(cancellationToken);
            if (publicKey != key.Recipient.ToString())
            {
                throw new InvalidOperationException("The key does not belong to the account.");
            }
        }
        if (!await keys.ChangePasswordAsync(accountId, key, password, cancellationToken))
        {
            throw new InvalidOperationException("The account has no password wrap to replace.");
        }
        await EndEverythingAsync(accountId, cancellationToken);
        logger.LogInformation("Password of account {AccountId} reset with a backup code", accountId);
    }

    /// <summary>
    /// A new key pair under the new password (the SMS path): the public key replaced, every wrapped copy of the old
    /// key (password, backup codes) and the backup codes' hashes deleted, the account's items locked. Returns the new key.
    /// </summary>
    public async Task<AgeIdentity> ReplaceKeyAsync(Guid accountId, string password, CancellationToken cancellationToken)
    {
        var key = AgeIdentity.Generate();
        var wrapped = PrivateKeyWrap.WrapWithPassword(key, password, KeyWrapPurpose.Password, AccountKeys.PasswordKeyId(accountId));
        var now = time.GetUtcNow().UtcDateTime;
        int locked;
        await using (var db = await vaultFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.LockAccountAsync(accountId, cancellationToken);
            var account = await db.Accounts.SingleAsync(a => a.Id == accountId, cancellationToken);
            account.PublicKey = key.Recipient.ToString();
            await db.AccountKeys.Where(k => k.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            db.AccountKeys.Add(new AccountKey { AccountId = accountId, Kind = AccountKeyKind.Password, WrappedKey = wrapped, CreatedAt = now });
            // Items still waiting behind a link key are not for the old account key: they stay claimable.
            locked = await db.MailboxItems.Where(i => i.AccountId == accountId && i.PendingLinkId == null && i.LockedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.LockedAt, now), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.BackupCodes.Where(b => b.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        }
        await EndEverythingAsync(accountId, cancellationToken);
        await using (var vault = await vaultFactory.CreateDbContextAsync(cancellationToken))
        {
            await vault.Database.FlushDeletedAsync(cancellationToken);
        }
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.Database.FlushDeletedAsync(cancellationToken);
        }
        logger.LogInformation("Password of account {AccountId} reset by SMS with a new key pair: {Count} items locked", accountId, locked);
        return key;
    }

    private async Task EndEverythingAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await sessions.EndAllAsync(accountId, cancellationToken);
        await recoveries.EndAllAsync(accountId, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.PendingSignIns.Where(p => p.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
    }
}
