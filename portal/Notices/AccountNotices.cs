using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Notices;

/// <summary>What changed on an account, for the mail that tells its owner (SECURITY.md A10).</summary>
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
/// Mails the account's owner when its security changed: in Swedish and English, with the time, what to do if it was
/// not them, and no secret. Queued durably, so a notice is not lost when the next hop is down.
/// </summary>
public sealed class AccountNotices(NoticeMail mail, IDbContextFactory<VaultDbContext> vaultFactory, IOptions<PortalOptions> portal, TimeProvider time, ILogger<AccountNotices> logger)
{
    public async Task SendAsync(Guid accountId, AccountNotice notice, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var email = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Email).SingleOrDefaultAsync(cancellationToken);
        if (email is not null)
        {
            await SendToAsync(email, notice, cancellationToken);
        }
    }

    /// <summary>For notices after the account row is gone (deletion): the address is given, not looked up.</summary>
    public async Task SendToAsync(string email, AccountNotice notice, CancellationToken cancellationToken)
    {
        var (sv, en) = Texts(notice);
        var when = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC";
        var signIn = portal.Value.UrlFor("/signin");
        var text = notice == AccountNotice.AccountDeleted
            ? $"{sv} ({when})\n\n{en} ({when})\n"
            : $"{sv} ({when})\n\nVar det inte du? Logga in på {signIn} och byt lösenord, och kontakta supporten.\n\n" +
              $"{en} ({when})\n\nWasn't you? Sign in at {signIn}, change your password and contact support.\n";
        await mail.QueueAsync(email, "SecureMailbox: " + Subject(notice), text, cancellationToken);
        logger.LogInformation("Account notice {Notice} queued", notice);
    }

    private static string Subject(AccountNotice notice) => notice switch
    {
        AccountNotice.AccountDeleted => "ditt konto är raderat / your account has been deleted",
        _ => "säkerhetsändring på ditt konto / a security change on your account",
    };

    private static (string Sv, string En) Texts(AccountNotice notice) => notice switch
    {
        AccountNotice.PasswordChanged => ("Lösenordet till ditt SecureMailbox-konto har bytts.", "The password of your SecureMailbox account was changed."),
        AccountNotice.PasswordResetWithBackupCode => ("Lösenordet till ditt SecureMailbox-konto har återställts med en reservkod. Alla dina meddelanden går fortfarande att läsa. Andra inloggningar har avslutats.",
            "The password of your SecureMailbox account was reset with a backup code. All your messages can still be read. Other sessions were signed out."),
        AccountNotice.PasswordResetWithNewKey => ("Lösenordet till ditt SecureMailbox-konto har återställts med en SMS-kod. Kontot har fått nya krypteringsnycklar: meddelanden från före återställningen är låsta, och du kan be avsändarna skicka dem igen. Andra inloggningar har avslutats.",
            "The password of your SecureMailbox account was reset with an SMS code. The account has new encryption keys: messages from before the reset are locked, and you can ask their senders to send them again. Other sessions were signed out."),
        AccountNotice.TwoFactorEnabled => ("Tvåfaktorsinloggning har slagits på för ditt SecureMailbox-konto.", "Two-factor sign-in was turned on for your SecureMailbox account."),
        AccountNotice.TwoFactorDisabled => ("Tvåfaktorsinloggning har stängts av för ditt SecureMailbox-konto.", "Two-factor sign-in was turned off for your SecureMailbox account."),
        AccountNotice.TwoFactorRecovered => ("Du loggade in med \"Förlorat din authenticator\". Tvåfaktorsinloggning är nu avstängd: slå på den igen under Inställningar → ID-kontroll.",
            "You signed in with \"Lost your authenticator\". Two-factor sign-in is now off: turn it on again under Settings → ID check."),
        AccountNotice.BackupCodesRegenerated => ("Nya reservkoder har skapats för ditt SecureMailbox-konto. De gamla gäller inte längre.", "New backup codes were created for your SecureMailbox account. The old ones no longer work."),
        AccountNotice.PhoneChanged => ("Mobilnumret för ditt SecureMailbox-konto har bytts.", "The mobile number of your SecureMailbox account was changed."),
        AccountNotice.BackupPhoneAdded => ("En reservtelefon har lagts till på ditt SecureMailbox-konto.", "A backup phone was added to your SecureMailbox account."),
        AccountNotice.BackupPhoneRemoved => ("Reservtelefonen har tagits bort från ditt SecureMailbox-konto.", "The backup phone was removed from your SecureMailbox account."),
        AccountNotice.AccountDeleted => ("Ditt SecureMailbox-konto och alla dina meddelanden, nycklar och koder har raderats. Meddelanden du har skickat finns kvar hos sina andra mottagare.",
            "Your SecureMailbox account and all its messages, keys and codes have been deleted. Messages you sent remain with their other recipients."),
        _ => throw new ArgumentOutOfRangeException(nameof(notice)),
    };
}
