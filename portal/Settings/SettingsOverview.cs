using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts.TwoFactor;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Settings;

/// <summary>What the Settings page shows of each setting's current state.</summary>
public sealed record SettingsState(string Language, bool ShowSubject, bool TwoFactorOn, int BackupCodesLeft, string? MaskedPhone, string? MaskedBackupPhone);

/// <summary>Reads the state of an account's settings in one place (language, notifications, 2FA, phones).</summary>
public sealed class SettingsOverview(IDbContextFactory<VaultDbContext> vaultFactory, TwoFactorAccounts twoFactor, BackupCodes backupCodes)
{
    public async Task<SettingsState> ReadAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == accountId, cancellationToken);
        var on = await twoFactor.IsEnabledAsync(accountId, cancellationToken);
        return new SettingsState(
            account.Language,
            account.ShowSubjectInNotifications,
            on,
            on ? await backupCodes.RemainingAsync(accountId, cancellationToken) : 0,
            account.Phone is null ? null : PhoneNumberRules.Mask(account.Phone),
            account.BackupPhone is null ? null : PhoneNumberRules.Mask(account.BackupPhone));
    }
}
