using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts.Recovery;

/// <summary>
/// "Förlorat din authenticator": after password and an SMS or backup code, two-factor sign-in is turned off — the
/// TOTP secret, the backup codes' hashes and their wraps of the key go. The password's wrap stays, so nothing is lost.
/// </summary>
public sealed class TwoFactorRecovery(IDbContextFactory<PortalDbContext> dbFactory, IDbContextFactory<VaultDbContext> vaultFactory, ILogger<TwoFactorRecovery> logger)
{
    public async Task TurnOffAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.TwoFactorSecrets.Where(t => t.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await db.BackupCodes.Where(b => b.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        }
        await using (var vault = await vaultFactory.CreateDbContextAsync(cancellationToken))
        {
            await vault.AccountKeys.Where(k => k.AccountId == accountId && k.Kind == AccountKeyKind.BackupCode).ExecuteDeleteAsync(cancellationToken);
        }
        logger.LogInformation("Two-factor sign-in turned off for account {AccountId} (lost authenticator)", accountId);
    }
}
