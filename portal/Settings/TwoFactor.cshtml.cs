using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using QRCoder;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Accounts.Security;
using SecureMailbox.Portal.Accounts.TwoFactor;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Portal.Verification;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Settings;

public enum TwoFactorStep
{
    Start,
    Sms,
    Qr,
    Codes,
    Enabled,
}

/// <summary>
/// Settings → ID check (FAQ "Vad är tvåfaktorsinloggning?"): password again and "I have installed an app", an SMS
/// code to the account's phone (the verification code rules), then the QR code and the secret in groups of four,
/// confirmed by a code from the app; then the backup codes, shown once, with the warning to print them.
/// The steps done so far are kept per session (<see cref="TwoFactorSetup"/>, 15 minutes).
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class TwoFactorPage(
    SessionStore sessions,
    SignInService signIn,
    TwoFactorAccounts twoFactor,
    BackupCodes backupCodes,
    SmsCodes smsCodes,
    IDbContextFactory<PortalDbContext> dbFactory,
    IDbContextFactory<VaultDbContext> vaultFactory,
    SecurityEvents events,
    AccountNotices notices,
    TimeProvider time,
    ILogger<TwoFactorPage> logger) : SignedInPageModel(sessions)
{
    private static readonly TimeSpan SetupLifetime = TimeSpan.FromMinutes(15);

    public TwoFactorStep Step { get; private set; }

    public string? Error { get; private set; }

    public string GroupedSecret { get; private set; } = "";

    public IReadOnlyList<string> Codes { get; private set; } = [];

    public int RemainingCodes { get; private set; }

    /// <summary>Whether the changes to an enabled 2FA are offered, or first the way to re-authenticate.</summary>
    public bool Reauthenticated { get; private set; }

    /// <summary>On the first step: the numbers the SMS code can go to, masked (the backup phone only if there is one).</summary>
    public string? MaskedPhone { get; private set; }

    public string? MaskedBackupPhone { get; private set; }

    /// <summary>On the SMS step: where the code went, masked.</summary>
    public string SmsSentTo { get; private set; } = "";

    /// <summary>Whether 2FA was just turned off (the page says so).</summary>
    public bool TurnedOff { get; private set; }

    public async Task<IActionResult> OnGetAsync([FromQuery] bool off)
    {
        await ShowCurrentStepAsync();
        TurnedOff = off && Step == TwoFactorStep.Start;
        return Page();
    }

    /// <summary>
    /// Password and "installed" checked, the SMS code goes to the account's phone, or to its backup phone when
    /// <paramref name="to"/> is <c>backup</c> (a backup phone is usable wherever the main phone is).
    /// </summary>
    public async Task<IActionResult> OnPostStartAsync([FromForm] string? password, [FromForm] bool installed, [FromForm] string? to)
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (await twoFactor.IsEnabledAsync(Session.AccountId, cancellationToken))
        {
            return Redirect("/settings/two-factor");
        }
        if (!installed)
        {
            return await FailStartAsync("TwoFactorInstallFirst");
        }
        if (!await signIn.VerifyPasswordAsync(Session.AccountId, password, RateLimits.ClientIp(HttpContext), cancellationToken))
        {
            return await FailStartAsync("WrongPassword");
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var numbers = await vault.Accounts.Where(a => a.Id == Session.AccountId).Select(a => new { a.Phone, a.BackupPhone }).SingleAsync(cancellationToken);
        var phone = to == "backup" ? numbers.BackupPhone : numbers.Phone;
        if (phone is null)
        {
            return await FailStartAsync("TwoFactorNoPhone");
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.TwoFactorSetups.Where(s => s.Id == Session.RowId || s.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        // The SMS code hangs on a pre-session row of its own (no cookie points to it), so the verification code
        // rules apply unchanged: hashed code, 10 minutes, 5 checks, resend delays, per-number limits.
        var preSession = new PreSession { AccountId = Session.AccountId, LinkId = Session.AccountId, Phone = phone, CreatedAt = now, ExpiresAt = now + SetupLifetime };
        db.PreSessions.Add(preSession);
        db.TwoFactorSetups.Add(new TwoFactorSetup { Id = Session.RowId, AccountId = Session.AccountId, PreSessionId = preSession.Id, ExpiresAt = now + SetupLifetime });
        await db.SaveChangesAsync(cancellationToken);
        var sent = await smsCodes.SendAsync(preSession, RateLimits.ClientIp(HttpContext), cancellationToken);
        return sent.Outcome == SendOutcome.Sent ? Redirect("/settings/two-factor") : await FailStartAsync("TooManyCodes");
    }

    public async Task<IActionResult> OnPostSmsAsync([FromForm] string? code)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var setup = await SetupAsync(cancellationToken);
        if (setup is null)
        {
            return Redirect("/settings/two-factor");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var preSession = await db.PreSessions.AsNoTracking().SingleAsync(p => p.Id == setup.PreSessionId, cancellationToken);
        var outcome = await smsCodes.CheckAsync(preSession, code, cancellationToken);
        if (outcome != CheckOutcome.Correct)
        {
            return Fail(TwoFactorStep.Sms, outcome == CheckOutcome.Wrong ? "WrongCode" : "CodeExpiredOrUsedUp");
        }
        await db.TwoFactorSetups.Where(s => s.Id == setup.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.SmsVerified, true), cancellationToken);
        await twoFactor.NewPendingSecretAsync(Session.AccountId, cancellationToken);
        return Redirect("/settings/two-factor");
    }

    /// <summary>A new SMS code (same request, so the resend delays and send limits apply).</summary>
    public async Task<IActionResult> OnPostResendAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var setup = await SetupAsync(cancellationToken);
        if (setup is not { SmsVerified: false })
        {
            return Redirect("/settings/two-factor");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var preSession = await db.PreSessions.AsNoTracking().SingleAsync(p => p.Id == setup.PreSessionId, cancellationToken);
        var sent = await smsCodes.SendAsync(preSession, RateLimits.ClientIp(HttpContext), cancellationToken);
        return sent.Outcome == SendOutcome.Sent ? Redirect("/settings/two-factor") : Fail(TwoFactorStep.Sms, "TooManyCodes");
    }

    /// <summary>The QR code of the unconfirmed secret, as a PNG from this server (never a third-party QR service).</summary>
    public async Task<IActionResult> OnGetQrAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var setup = await SetupAsync(cancellationToken);
        var secret = setup is { SmsVerified: true } ? await twoFactor.PendingSecretAsync(Session.AccountId, cancellationToken) : null;
        if (secret is null)
        {
            return NotFound();
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var email = await vault.Accounts.Where(a => a.Id == Session.AccountId).Select(a => a.Email).SingleAsync(cancellationToken);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(Totp.OtpAuthUri(email, secret), QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(data).GetGraphic(6);
        return File(png, "image/png");
    }

    public async Task<IActionResult> OnPostConfirmAsync([FromForm] string? code)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var setup = await SetupAsync(cancellationToken);
        if (setup is not { SmsVerified: true })
        {
            return Redirect("/settings/two-factor");
        }
        if (!await twoFactor.ConfirmAsync(Session.AccountId, code, cancellationToken))
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Error = "WrongCode";
            await ShowCurrentStepAsync();
            return Page();
        }
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.TwoFactorSetups.Where(s => s.Id == setup.Id).ExecuteDeleteAsync(cancellationToken);
            await db.PreSessions.Where(p => p.Id == setup.PreSessionId).ExecuteDeleteAsync(cancellationToken);
        }
        Codes = await backupCodes.RegenerateAsync(Session.AccountId, Session.Key, cancellationToken);
        logger.LogInformation("Two-factor sign-in turned on for account {AccountId}", Session.AccountId);
        await events.RecordAsync(Session.AccountId, SecurityEventKind.TwoFactorEnabled, HttpContext, cancellationToken);
        await notices.SendAsync(Session.AccountId, AccountNotice.TwoFactorEnabled, cancellationToken);
        Step = TwoFactorStep.Codes;
        return Page();
    }

    /// <summary>A new set of backup codes after re-authentication (docs/rules.md A13); the old set stops working.</summary>
    public async Task<IActionResult> OnPostRegenerateAsync()
    {
        var redirect = await RequireRecentAuthenticationAsync("/settings/two-factor");
        if (redirect is not null)
        {
            return redirect;
        }
        var cancellationToken = HttpContext.RequestAborted;
        if (!await twoFactor.IsEnabledAsync(Session.AccountId, cancellationToken))
        {
            return Redirect("/settings/two-factor");
        }
        logger.LogInformation("Backup codes regenerated for account {AccountId}", Session.AccountId);
        Codes = await backupCodes.RegenerateAsync(Session.AccountId, Session.Key, cancellationToken);
        await events.RecordAsync(Session.AccountId, SecurityEventKind.BackupCodesRegenerated, HttpContext, cancellationToken);
        await notices.SendAsync(Session.AccountId, AccountNotice.BackupCodesRegenerated, cancellationToken);
        Step = TwoFactorStep.Codes;
        return Page();
    }

    /// <summary>
    /// Turns 2FA off after re-authentication: the secret, the backup codes and the keys they wrap are deleted, so
    /// sign-in asks for the password only.
    /// </summary>
    public async Task<IActionResult> OnPostDisableAsync()
    {
        var redirect = await RequireRecentAuthenticationAsync("/settings/two-factor");
        if (redirect is not null)
        {
            return redirect;
        }
        var cancellationToken = HttpContext.RequestAborted;
        if (!await twoFactor.IsEnabledAsync(Session.AccountId, cancellationToken))
        {
            return Redirect("/settings/two-factor");
        }
        await twoFactor.DisableAsync(Session.AccountId, cancellationToken);
        logger.LogInformation("Two-factor sign-in turned off for account {AccountId}", Session.AccountId);
        await events.RecordAsync(Session.AccountId, SecurityEventKind.TwoFactorDisabled, HttpContext, cancellationToken);
        await notices.SendAsync(Session.AccountId, AccountNotice.TwoFactorDisabled, cancellationToken);
        return Redirect("/settings/two-factor?off=true");
    }

    /// <summary>The codes just shown, back as a text file (nothing is stored in clear: the page posts them back).</summary>
    public IActionResult OnPostDownload([FromForm] string[]? codes)
    {
        var valid = (codes ?? []).Select(BackupCodes.Normalise).ToList();
        if (valid.Count is 0 or > BackupCodes.Count || valid.Any(c => c is null))
        {
            return BadRequest();
        }
        var text = "SecureMailbox backup codes\r\n\r\n" + string.Join("\r\n", valid.Select(c => c![..5] + "-" + c[5..])) + "\r\n";
        return File(System.Text.Encoding.UTF8.GetBytes(text), "text/plain; charset=utf-8", "securemailbox-backup-codes.txt");
    }

    private PageResult Fail(TwoFactorStep step, string error)
    {
        Step = step;
        Error = error;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task<IActionResult> FailStartAsync(string error)
    {
        await ShowNumbersAsync(HttpContext.RequestAborted);
        return Fail(TwoFactorStep.Start, error);
    }

    private async Task<TwoFactorSetup?> SetupAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        return await db.TwoFactorSetups.AsNoTracking()
            .SingleOrDefaultAsync(s => s.Id == Session.RowId && s.AccountId == Session.AccountId && s.ExpiresAt > now, cancellationToken);
    }

    private async Task ShowCurrentStepAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (await twoFactor.IsEnabledAsync(Session.AccountId, cancellationToken))
        {
            Step = TwoFactorStep.Enabled;
            RemainingCodes = await backupCodes.RemainingAsync(Session.AccountId, cancellationToken);
            Reauthenticated = await IsRecentlyAuthenticatedAsync();
            return;
        }
        var setup = await SetupAsync(cancellationToken);
        var secret = setup is { SmsVerified: true } ? await twoFactor.PendingSecretAsync(Session.AccountId, cancellationToken) : null;
        Step = setup is null ? TwoFactorStep.Start : secret is null ? TwoFactorStep.Sms : TwoFactorStep.Qr;
        GroupedSecret = secret is null ? "" : Totp.Grouped(secret);
        if (Step == TwoFactorStep.Start)
        {
            await ShowNumbersAsync(cancellationToken);
        }
        else if (Step == TwoFactorStep.Sms)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var phone = await db.PreSessions.Where(p => p.Id == setup!.PreSessionId).Select(p => p.Phone).SingleOrDefaultAsync(cancellationToken);
            SmsSentTo = phone is null ? "" : PhoneNumberRules.Mask(phone);
        }
    }

    private async Task ShowNumbersAsync(CancellationToken cancellationToken)
    {
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var numbers = await vault.Accounts.Where(a => a.Id == Session.AccountId).Select(a => new { a.Phone, a.BackupPhone }).SingleAsync(cancellationToken);
        MaskedPhone = numbers.Phone is null ? null : PhoneNumberRules.Mask(numbers.Phone);
        MaskedBackupPhone = numbers.BackupPhone is null ? null : PhoneNumberRules.Mask(numbers.BackupPhone);
    }
}
