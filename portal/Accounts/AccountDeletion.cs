using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Mailbox;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts;

/// <summary>
/// Self-service account deletion (FAQ "Hur gör jag för att radera mitt konto?", docs/rules.md property 7): at once, every
/// mailbox item (the account's stanzas and metadata), every message left without a reader (payload overwritten, then
/// deleted), every wrapped key, backup code, TOTP secret, session, pending sign-in, recovery, SMS code request, rate
/// counter and security event that names the person. Messages the account sent stay readable for their other
/// recipients: only the sender's own copy goes. Both databases run with <c>secure_delete</c>, so deleted rows are
/// overwritten in the files too. The person gets a final mail.
/// </summary>
public sealed class AccountDeletion(
    IDbContextFactory<VaultDbContext> vaultFactory,
    IDbContextFactory<PortalDbContext> portalFactory,
    TrashService trash,
    AccountNotices notices,
    ILogger<AccountDeletion> logger)
{
    public async Task<bool> DeleteAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await vault.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        if (account is null)
        {
            return false;
        }
        // The key material goes first (the items), then each payload nobody else reads: a crash in between leaves
        // only ciphertext whose keys are gone.
        var items = await vault.MailboxItems.Where(i => i.AccountId == accountId).ToListAsync(cancellationToken);
        await trash.PurgeItemsAsync(vault, items, cancellationToken);
        await using (var transaction = await vault.Database.BeginTransactionAsync(cancellationToken))
        {
            await vault.Database.LockAccountAsync(accountId, cancellationToken);
            await vault.SenderMonthlyCounts.Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await vault.Links.Where(l => l.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await vault.AccountKeys.Where(k => k.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await vault.Accounts.Where(a => a.Id == accountId).ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await using (var portal = await portalFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var transaction = await portal.Database.BeginTransactionAsync(cancellationToken);
            var preSessionIds = await portal.PreSessions.Where(p => p.AccountId == accountId).Select(p => p.Id).ToListAsync(cancellationToken);
            await portal.SmsCodeRequests.Where(r => preSessionIds.Contains(r.PreSessionId)).ExecuteDeleteAsync(cancellationToken);
            await portal.PreSessions.Where(p => p.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await portal.Sessions.Where(s => s.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await portal.PendingSignIns.Where(p => p.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await portal.TwoFactorSecrets.Where(t => t.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await portal.TwoFactorSetups.Where(t => t.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await portal.BackupCodes.Where(b => b.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await portal.RecoveryRequests.Where(r => r.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            await portal.SecurityEvents.Where(e => e.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
            // Rate counters are keyed by address and number
            // (SignInService, ForgotPassword, RegistrationService, SmsCodes), in the form RateLimits stores them.
            var keys = new List<string> { "signin-account:" + account.Email, "forgot-address:" + account.Email, "register-email:" + account.Email };
            keys.AddRange(new[] { account.Phone, account.BackupPhone }.OfType<string>().Select(phone => "sms-phone:" + phone));
            var stored = keys.Select(RateLimits.Stored).ToList();
            await portal.RateCounters.Where(e => stored.Contains(e.Key)).ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            await portal.Database.FlushDeletedAsync(cancellationToken);
        }
        await vault.Database.FlushDeletedAsync(cancellationToken);

        await notices.SendToAsync(account.Email, account.Language, AccountNotice.AccountDeleted, cancellationToken);
        logger.LogInformation("Account {AccountId} deleted: {Items} mailbox items", accountId, items.Count);
        return true;
    }
}
