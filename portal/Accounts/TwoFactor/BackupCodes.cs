using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts.TwoFactor;

/// <summary>
/// Ten single-use backup codes (10 characters from a 32-letter alphabet without look-alikes: 50 bits each). Each
/// code wraps the account's private key with Argon2id (vault AccountKey, Kind BackupCode), and a keyed hash
/// (HMAC-SHA256 under a server-secret key, salted with the account id) finds the right wrap without trying all ten.
/// Regenerating deletes the old set; using a code deletes it.
/// </summary>
public sealed class BackupCodes(
    IDbContextFactory<PortalDbContext> dbFactory,
    IDbContextFactory<VaultDbContext> vaultFactory,
    ServerSecret serverSecret,
    TimeProvider time)
{
    public const int Count = 10;

    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    public static string KeyId(Guid accountId, Guid accountKeyId) => "backup:" + accountId.ToString("N") + ":" + accountKeyId.ToString("N");

    /// <summary>Creates a new set (the old one stops working) and returns the codes, formatted XXXXX-XXXXX.</summary>
    public async Task<IReadOnlyList<string>> RegenerateAsync(Guid accountId, AgeIdentity key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = time.GetUtcNow().UtcDateTime;
        var codes = new List<string>();
        var keys = new List<AccountKey>();
        var hashes = new List<BackupCodeHash>();
        for (var i = 0; i < Count; i++)
        {
            var code = new string(Enumerable.Range(0, 10).Select(_ => Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)]).ToArray());
            var accountKey = new AccountKey { AccountId = accountId, Kind = AccountKeyKind.BackupCode, WrappedKey = [], CreatedAt = now };
            accountKey.WrappedKey = PrivateKeyWrap.WrapWithPassword(key, code, KeyWrapPurpose.BackupCode, KeyId(accountId, accountKey.Id));
            keys.Add(accountKey);
            hashes.Add(new BackupCodeHash { AccountId = accountId, AccountKeyId = accountKey.Id, Hash = Hash(accountId, code) });
            codes.Add(code[..5] + "-" + code[5..]);
        }
        await using (var vault = await vaultFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var transaction = await vault.Database.BeginTransactionAsync(cancellationToken);
            await vault.Database.LockAccountAsync(accountId, cancellationToken);
            await vault.AccountKeys.Where(k => k.AccountId == accountId && k.Kind == AccountKeyKind.BackupCode).ExecuteDeleteAsync(cancellationToken);
            vault.AccountKeys.AddRange(keys);
            await vault.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.BackupCodes.Where(b => b.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        db.BackupCodes.AddRange(hashes);
        await db.SaveChangesAsync(cancellationToken);
        return codes;
    }

    public async Task<int> RemainingAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.BackupCodes.CountAsync(b => b.AccountId == accountId, cancellationToken);
    }

    /// <summary>
    /// Uses up a code: the account's key unwrapped with it, or null (wrong or used code). The code is deleted before
    /// the key is returned, so a second use fails.
    /// </summary>
    public async Task<AgeIdentity?> UseAsync(Guid accountId, string? code, CancellationToken cancellationToken)
    {
        var normalised = Normalise(code);
        if (normalised is null)
        {
            return null;
        }
        var hash = Hash(accountId, normalised);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.BackupCodes.Where(b => b.AccountId == accountId).ToListAsync(cancellationToken);
        var row = rows.FirstOrDefault(b => CryptographicOperations.FixedTimeEquals(b.Hash, hash));
        if (row is null || await db.BackupCodes.Where(b => b.Id == row.Id).ExecuteDeleteAsync(cancellationToken) != 1)
        {
            return null;
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var accountKey = await vault.AccountKeys.SingleOrDefaultAsync(k => k.Id == row.AccountKeyId && k.AccountId == accountId && k.Kind == AccountKeyKind.BackupCode, cancellationToken);
        if (accountKey is null)
        {
            return null;
        }
        vault.AccountKeys.Remove(accountKey);
        await vault.SaveChangesAsync(cancellationToken);
        try
        {
            return PrivateKeyWrap.UnwrapIdentityWithPassword(accountKey.WrappedKey, normalised, KeyWrapPurpose.BackupCode, KeyId(accountId, accountKey.Id));
        }
        catch (KeyUnwrapException)
        {
            return null;
        }
    }

    /// <summary>Upper case, without spaces and dashes; null unless 10 characters of the alphabet.</summary>
    public static string? Normalise(string? code)
    {
        var text = new string((code ?? "").Where(c => !char.IsWhiteSpace(c) && c != '-').Select(char.ToUpperInvariant).Take(40).ToArray());
        return text.Length == 10 && text.All(Alphabet.Contains) ? text : null;
    }

    private byte[] Hash(Guid accountId, string code) =>
        HMACSHA256.HashData(serverSecret.Derive("backup-code-v1"), Encoding.ASCII.GetBytes(accountId.ToString("N") + ":" + code));
}
