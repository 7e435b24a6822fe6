using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts.TwoFactor;

/// <summary>An account's TOTP state: the pending secret during enabling, the enabled secret, its last used step.</summary>
public sealed class TwoFactorAccounts(
    IDbContextFactory<PortalDbContext> dbFactory,
    IDbContextFactory<VaultDbContext> vaultFactory,
    TotpSecretProtector protector,
    Totp totp,
    TimeProvider time,
    ILogger<TwoFactorAccounts> logger)
{
    /// <summary>
    /// Whether sign-in needs a second factor. Fails closed: backup-code keys in the vault (created only when 2FA is
    /// turned on) also count, so losing or replacing the portal database never silently turns 2FA off.
    /// </summary>
    public async Task<bool> IsEnabledAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.TwoFactorSecrets.AnyAsync(t => t.AccountId == accountId && t.EnabledAt != null, cancellationToken))
        {
            return true;
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        return await vault.AccountKeys.AnyAsync(k => k.AccountId == accountId && k.Kind == AccountKeyKind.BackupCode, cancellationToken);
    }

    /// <summary>A fresh secret for an account that has not enabled 2FA (replaces an unconfirmed one).</summary>
    public async Task<byte[]?> NewPendingSecretAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.TwoFactorSecrets.SingleOrDefaultAsync(t => t.AccountId == accountId, cancellationToken);
        if (row?.EnabledAt is not null)
        {
            return null;
        }
        var secret = Totp.NewSecret();
        if (row is null)
        {
            row = new TwoFactorSecret { AccountId = accountId, EncryptedSecret = [] };
            db.TwoFactorSecrets.Add(row);
        }
        row.EncryptedSecret = protector.Protect(accountId, secret);
        row.CreatedAt = time.GetUtcNow().UtcDateTime;
        row.LastUsedStep = 0;
        await db.SaveChangesAsync(cancellationToken);
        return secret;
    }

    /// <summary>The unconfirmed secret (for the QR code), or null.</summary>
    public async Task<byte[]?> PendingSecretAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.TwoFactorSecrets.AsNoTracking().SingleOrDefaultAsync(t => t.AccountId == accountId && t.EnabledAt == null, cancellationToken);
        return row is null ? null : protector.Unprotect(accountId, row.EncryptedSecret);
    }

    /// <summary>Confirms the pending secret with a code from the app: 2FA is on from here.</summary>
    public Task<bool> ConfirmAsync(Guid accountId, string? code, CancellationToken cancellationToken) =>
        CheckAsync(accountId, code, enabled: false, cancellationToken);

    /// <summary>Checks a sign-in code against the enabled secret; the matched step is stored so it works once only.</summary>
    public Task<bool> VerifyAsync(Guid accountId, string? code, CancellationToken cancellationToken) =>
        CheckAsync(accountId, code, enabled: true, cancellationToken);

    /// <summary>
    /// Turns 2FA off: the vault's backup-code key wraps, the code hashes, an unfinished set-up and the secret, in that
    /// order, so a failure half-way leaves 2FA on (the secret still counts) rather than half off.
    /// </summary>
    public async Task DisableAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using (var vault = await vaultFactory.CreateDbContextAsync(cancellationToken))
        {
            await vault.AccountKeys.Where(k => k.AccountId == accountId && k.Kind == AccountKeyKind.BackupCode).ExecuteDeleteAsync(cancellationToken);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.BackupCodes.Where(b => b.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await db.TwoFactorSetups.Where(s => s.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await db.TwoFactorSecrets.Where(t => t.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
    }

    private async Task<bool> CheckAsync(Guid accountId, string? code, bool enabled, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.TwoFactorSecrets.SingleOrDefaultAsync(t => t.AccountId == accountId, cancellationToken);
        if (row is null || (row.EnabledAt is not null) != enabled)
        {
            return false;
        }
        byte[] secret;
        try
        {
            secret = protector.Unprotect(accountId, row.EncryptedSecret);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // The server secret changed (portal-secret.key lost or replaced) or the row is damaged: no code can match.
            // The user gets in with "Förlorat din authenticator" (SMS code), which turns 2FA off.
            logger.LogError("The TOTP secret of account {AccountId} does not open with the server key", accountId);
            return false;
        }
        var step = totp.Verify(secret, code, row.LastUsedStep);
        if (step is null)
        {
            return false;
        }
        // Conditional update: of two concurrent requests with the same code only one moves the step on.
        var updated = await db.TwoFactorSecrets
            .Where(t => t.AccountId == accountId && t.LastUsedStep == row.LastUsedStep)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedStep, step.Value)
                .SetProperty(t => t.EnabledAt, t => t.EnabledAt ?? time.GetUtcNow().UtcDateTime), cancellationToken);
        return updated == 1;
    }
}
