using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Accounts;

/// <summary>
/// The account's key pair over its life: the first verified link key becomes the account key (wrapped under the
/// password), and later pending links are claimed into it (each stanza and metadata blob re-encrypted to the account
/// key, the link key deleted).
/// </summary>
public sealed class AccountKeys(IDbContextFactory<VaultDbContext> vaultFactory, TimeProvider time, ILogger<AccountKeys> logger)
{
    public static string PasswordKeyId(Guid accountId) => "account:" + accountId.ToString("N");

    /// <summary>Makes a pending account active with the link key as its key pair. False when it is no longer pending.</summary>
    public async Task<bool> ActivateAsync(Guid accountId, Guid linkId, AgeIdentity linkKey, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(linkKey);
        var wrapped = PrivateKeyWrap.WrapWithPassword(linkKey, password, KeyWrapPurpose.Password, PasswordKeyId(accountId));
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.LockAccountAsync(accountId, cancellationToken);
        var account = await db.Accounts.SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        var link = await db.Links.SingleOrDefaultAsync(l => l.Id == linkId && l.AccountId == accountId, cancellationToken);
        if (account is null || account.State != AccountState.Pending || link?.PublicKey != linkKey.Recipient.ToString())
        {
            return false;
        }
        var now = time.GetUtcNow().UtcDateTime;
        account.State = AccountState.Active;
        account.PublicKey = linkKey.Recipient.ToString();
        // The language the person followed the first pages in becomes the account's (portal and notifications).
        account.Language = Localization.PortalLocalizationServiceCollectionExtensions.CurrentLanguage;
        db.AccountKeys.Add(new AccountKey { AccountId = accountId, Kind = AccountKeyKind.Password, WrappedKey = wrapped, CreatedAt = now });
        await db.MailboxItems.Where(i => i.PendingLinkId == linkId).ExecuteUpdateAsync(s => s.SetProperty(i => i.PendingLinkId, (Guid?)null), cancellationToken);
        link.WrappedKey = null;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Account {AccountId} activated from link {LinkId}", accountId, linkId);
        return true;
    }

    /// <summary>
    /// A self-registered account: a new key pair under the password, the verified phone. An address that already has
    /// a pending account (mail waiting behind links) becomes active with the new key; those messages stay on their
    /// link keys until the person opens each link and signs in, which claims it (<see cref="ClaimAsync"/>).
    /// Null when the address already has an active account.
    /// </summary>
    public async Task<Account?> RegisterAsync(string email, string phone, AgeIdentity key, string password, string defaultRegion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var account = await db.Accounts.SingleOrDefaultAsync(a => a.Email == email, cancellationToken);
        if (account is { State: AccountState.Active })
        {
            return null;
        }
        if (account is null)
        {
            account = new Account { Email = email, State = AccountState.Pending, Region = defaultRegion, CreatedAt = now };
            db.Accounts.Add(account);
        }
        account.State = AccountState.Active;
        account.PublicKey = key.Recipient.ToString();
        account.Phone = phone;
        account.Language = Localization.PortalLocalizationServiceCollectionExtensions.CurrentLanguage;
        db.AccountKeys.Add(new AccountKey
        {
            AccountId = account.Id,
            Kind = AccountKeyKind.Password,
            WrappedKey = PrivateKeyWrap.WrapWithPassword(key, password, KeyWrapPurpose.Password, PasswordKeyId(account.Id)),
            CreatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Account {AccountId} registered", account.Id);
        return account;
    }

    /// <summary>
    /// The same key pair under a new password (password change): only the Password wrap is replaced, so every message
    /// stays readable. False when the account has no password wrap (not active).
    /// </summary>
    public async Task<bool> ChangePasswordAsync(Guid accountId, AgeIdentity key, string newPassword, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var wrapped = PrivateKeyWrap.WrapWithPassword(key, newPassword, KeyWrapPurpose.Password, PasswordKeyId(accountId));
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var updated = await db.AccountKeys.Where(k => k.AccountId == accountId && k.Kind == AccountKeyKind.Password)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.WrappedKey, wrapped).SetProperty(k => k.CreatedAt, time.GetUtcNow().UtcDateTime), cancellationToken);
        logger.LogInformation("Password wrap replaced for account {AccountId}", accountId);
        return updated == 1;
    }

    /// <summary>Re-encrypts a pending link's items to the (active) account key and deletes the link key.</summary>
    public async Task<int> ClaimAsync(Guid accountId, Guid linkId, AgeIdentity linkKey, AgeRecipient accountKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(linkKey);
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.LockAccountAsync(accountId, cancellationToken);
        var link = await db.Links.SingleOrDefaultAsync(l => l.Id == linkId && l.AccountId == accountId, cancellationToken);
        if (link is null)
        {
            return 0;
        }
        var items = await db.MailboxItems.Where(i => i.PendingLinkId == linkId && i.AccountId == accountId).ToListAsync(cancellationToken);
        foreach (var item in items)
        {
            using var fileKey = VaultReader.UnwrapFileKey(item.Stanza, linkKey);
            item.Stanza = X25519Stanza.Wrap(fileKey, accountKey).ToString();
            var metadata = await VaultReader.ReadMetadataAsync(item.EncryptedMetadata, linkKey, cancellationToken);
            item.EncryptedMetadata = await VaultWriter.EncryptToAsync(JsonSerializer.SerializeToUtf8Bytes(metadata), accountKey, cancellationToken);
            item.PendingLinkId = null;
        }
        link.WrappedKey = null;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Link {LinkId} claimed into account {AccountId}: {Count} items", linkId, accountId, items.Count);
        return items.Count;
    }
}
