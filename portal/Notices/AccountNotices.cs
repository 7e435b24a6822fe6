using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Notifications;

namespace SecureMailbox.Portal.Notices;

/// <summary>What changed on an account, for the mail that tells its owner (docs/rules.md A10).</summary>
public enum AccountNotice
{
    PasswordChanged,
    PasswordResetWithBackupCode,
    PasswordResetWithNewKey,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorRecovered,
    BackupCodesRegenerated,
    PhoneChanged,
    BackupPhoneAdded,
    BackupPhoneRemoved,
    AccountDeleted,
}

/// <summary>
/// Mails the account's owner when its security changed: in the account's language, with the time in the configured
/// zone, what to do if it was not them, and no secret. Queued durably, so a notice is not lost when the next hop is down.
/// </summary>
public sealed class AccountNotices(
    NoticeMail mail,
    MailTexts texts,
    ReaderTime readerTime,
    IDbContextFactory<VaultDbContext> vaultFactory,
    IOptions<PortalOptions> portal,
    TimeProvider time,
    ILogger<AccountNotices> logger)
{
    public async Task SendAsync(Guid accountId, AccountNotice notice, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await db.Accounts.Where(a => a.Id == accountId).Select(a => new { a.Email, a.Language }).SingleOrDefaultAsync(cancellationToken);
        if (account is not null)
        {
            await SendToAsync(account.Email, account.Language, notice, cancellationToken);
        }
    }

    /// <summary>For notices after the account row is gone (deletion): the address and language are given, not looked up.</summary>
    public async Task SendToAsync(string email, string language, AccountNotice notice, CancellationToken cancellationToken)
    {
        var when = ReaderTime.Format(time.GetUtcNow(), readerTime.DefaultZone, MailTexts.CultureOf(language));
        var what = texts.Get(language, "Notice" + notice);
        var text = notice == AccountNotice.AccountDeleted
            ? texts.Get(language, "NoticeBodyDeleted", what, when)
            : texts.Get(language, "NoticeBody", what, when, portal.Value.UrlFor("/signin"));
        var subject = texts.Get(language, notice == AccountNotice.AccountDeleted ? "NoticeSubjectDeleted" : "NoticeSubject");
        await mail.QueueAsync(email, subject, text, cancellationToken);
        logger.LogInformation("Account notice {Notice} queued", notice);
    }
}
