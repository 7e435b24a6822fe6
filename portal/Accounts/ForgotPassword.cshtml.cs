using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts.Recovery;
using SecureMailbox.Portal.Accounts.TwoFactor;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Accounts;

public enum ForgotPasswordStep
{
    Email,
    Code,
    Authenticator,
    NewKey,
    NewPassword,
    Codes,
}

/// <summary>
/// "Glömt ditt lösenord?" (docs/rules.md A10, A12). The address gets the same answer whether it has an account or not;
/// for an active account with a phone an SMS code goes to it (or to the backup phone). Then either
/// <list type="bullet">
/// <item>the SMS code, and the authenticator app's code when 2FA is on, and a new password: the account gets a new key
/// pair and its messages stay locked (the page lists them before the user confirms); or</item>
/// <item>a backup code (it unwraps the key) and a new password: the same key, nothing lost, 2FA unchanged.</item>
/// </list>
/// Wrong codes count towards the sign-in throttling and the request's 5 attempts.
/// </summary>
[RequestSizeLimit(16 * 1024)]
[EvenTiming]
public sealed class ForgotPasswordPage(
    RecoveryRequests recoveries,
    PasswordReset reset,
    TwoFactorAccounts twoFactor,
    BackupCodes backupCodes,
    SignInService signIn,
    SignInCompletion completion,
    PasswordPolicy passwords,
    RateLimits limits,
    Security.SecurityEvents events,
    AccountNotices notices,
    IDbContextFactory<VaultDbContext> vaultFactory) : PageModel
{

    public ForgotPasswordStep Step { get; private set; }

    /// <summary>Resource key of the problem to show, if any.</summary>
    public string? Error { get; private set; }

    /// <summary>Resource key of a neutral notice ("a code was sent if …"), if any.</summary>
    public string? Info { get; private set; }

    public IReadOnlyList<LockedMessage> ToLock { get; private set; } = [];

    public IReadOnlyList<string> Codes { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var request = await recoveries.FindAsync(HttpContext, RecoveryPurpose.ForgotPassword, HttpContext.RequestAborted);
        await ShowAsync(request, HttpContext.RequestAborted);
        return Page();
    }

    /// <summary>Step 1: the address. Known, pending and unknown addresses get the same redirect and the same next page.</summary>
    public async Task<IActionResult> OnPostAsync([FromForm] string? email)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var address = VaultWriter.Normalise(email ?? "");
        if (address.Length is 0 or > 320 || !address.Contains('@', StringComparison.Ordinal) || address.Any(char.IsControl))
        {
            return Fail(ForgotPasswordStep.Email, "ForgotInvalidEmail", StatusCodes.Status400BadRequest);
        }
        var ip = RateLimits.ClientIp(HttpContext);
        if (!await limits.TryTakeAllAsync(cancellationToken, (RateLimitPolicies.ForgotPasswordPerIp, ip), (RateLimitPolicies.ForgotPasswordPerAddress, address)))
        {
            return Fail(ForgotPasswordStep.Email, "SignInThrottled", StatusCodes.Status429TooManyRequests);
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await vault.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Email == address && a.State == AccountState.Active, cancellationToken);
        var request = await recoveries.StartAsync(HttpContext, RecoveryPurpose.ForgotPassword, account?.Id, null, cancellationToken);
        await recoveries.SendCodeAsync(request, account?.Phone, ip, cancellationToken);
        return Redirect("/signin/forgot");
    }

    /// <summary>"Börja om": another address.</summary>
    public async Task<IActionResult> OnPostRestartAsync()
    {
        await recoveries.EndAsync(HttpContext, HttpContext.RequestAborted);
        return Redirect("/signin/forgot");
    }

    /// <summary>A new code to the same number (the resend delays and send limits of the code rules apply).</summary>
    public Task<IActionResult> OnPostResendAsync() => SendAgainAsync(backupPhone: false);

    /// <summary>"Skicka till min reservtelefon": the same answer whether there is a backup phone or not.</summary>
    public Task<IActionResult> OnPostBackupPhoneAsync() => SendAgainAsync(backupPhone: true);

    public async Task<IActionResult> OnPostSmsAsync([FromForm] string? code)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is null || request.SmsVerifiedAt is not null || request.BackupCodeUsedAt is not null)
        {
            return Redirect("/signin/forgot");
        }
        if (!await signIn.TrySecondFactorAttemptAsync(account?.Email ?? "", RateLimits.ClientIp(HttpContext), cancellationToken))
        {
            return Fail(ForgotPasswordStep.Code, "SignInThrottled", StatusCodes.Status429TooManyRequests);
        }
        // Wrong, expired and used-up codes get one answer: an unknown address has no code to expire.
        return await recoveries.CheckCodeAsync(request, code, cancellationToken) == Verification.CheckOutcome.Correct
            ? Redirect("/signin/forgot")
            : await WrongAsync(request, account, ForgotPasswordStep.Code, "ForgotCodeWrong");
    }

    /// <summary>With 2FA on, the SMS code alone does not reset the password: the app's code too (A10).</summary>
    public async Task<IActionResult> OnPostAuthenticatorAsync([FromForm] string? code)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is not { SmsVerifiedAt: not null, SecondFactorVerifiedAt: null } || account is null)
        {
            return Redirect("/signin/forgot");
        }
        if (!await signIn.TrySecondFactorAttemptAsync(account.Email, RateLimits.ClientIp(HttpContext), cancellationToken))
        {
            return Fail(ForgotPasswordStep.Authenticator, "SignInThrottled", StatusCodes.Status429TooManyRequests);
        }
        if (!await twoFactor.VerifyAsync(account.Id, code, cancellationToken))
        {
            return await WrongAsync(request, account, ForgotPasswordStep.Authenticator, "SecondFactorFailed");
        }
        await recoveries.MarkSecondFactorAsync(request, cancellationToken);
        return Redirect("/signin/forgot");
    }

    /// <summary>A backup code unwraps the key (and is used up); it waits wrapped under the cookie for the new password.</summary>
    public async Task<IActionResult> OnPostBackupCodeAsync([FromForm] string? backupCode)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is null || request.BackupCodeUsedAt is not null)
        {
            return Redirect("/signin/forgot");
        }
        if (!await signIn.TrySecondFactorAttemptAsync(account?.Email ?? "", RateLimits.ClientIp(HttpContext), cancellationToken))
        {
            return Fail(ForgotPasswordStep.Code, "SignInThrottled", StatusCodes.Status429TooManyRequests);
        }
        using var key = await backupCodes.UseAsync(account?.Id ?? Guid.Empty, backupCode, cancellationToken);
        if (key is null || account is null)
        {
            return await WrongAsync(request, account, ForgotPasswordStep.Code, "ForgotBackupCodeWrong");
        }
        await recoveries.KeepBackupCodeKeyAsync(HttpContext, request, key, cancellationToken);
        await events.RecordAsync(account.Id, SecurityEventKind.BackupCodeUsed, HttpContext, cancellationToken);
        return Redirect("/signin/forgot");
    }

    /// <summary>The new password: re-wraps the backup code's key, or (SMS path, after the list of locked messages) a new key.</summary>
    public async Task<IActionResult> OnPostResetAsync([FromForm] string? password, [FromForm] string? confirm, [FromForm] bool understood)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is null || account is null)
        {
            return Redirect("/signin/forgot");
        }
        await ShowAsync(request, cancellationToken);
        if (Step is not (ForgotPasswordStep.NewPassword or ForgotPasswordStep.NewKey))
        {
            return Redirect("/signin/forgot");
        }
        var problem = passwords.Problem(password) ?? (string.Equals(password, confirm, StringComparison.Ordinal) ? null : "PasswordMismatch");
        if (problem is null && Step == ForgotPasswordStep.NewKey && !understood)
        {
            problem = "ForgotConfirmLocked";
        }
        if (problem is not null)
        {
            return Fail(Step, problem, StatusCodes.Status400BadRequest);
        }
        if (Step == ForgotPasswordStep.NewPassword)
        {
            using var key = recoveries.UnwrapKey(HttpContext, request);
            if (key is null)
            {
                await recoveries.EndAsync(HttpContext, cancellationToken);
                return Redirect("/signin/forgot");
            }
            await recoveries.EndAsync(HttpContext, cancellationToken);
            await reset.RewrapAsync(account.Id, key, password!, cancellationToken);
            return Redirect(await FinishAsync(account.Id, key, SecurityEventKind.PasswordResetWithBackupCode, AccountNotice.PasswordResetWithBackupCode, cancellationToken));
        }
        var hadTwoFactor = await twoFactor.IsEnabledAsync(account.Id, cancellationToken);
        await recoveries.EndAsync(HttpContext, cancellationToken);
        using var newKey = await reset.ReplaceKeyAsync(account.Id, password!, cancellationToken);
        if (hadTwoFactor)
        {
            // The old codes wrapped the old key; the new set wraps the new one and is shown once, like at enabling.
            Codes = await backupCodes.RegenerateAsync(account.Id, newKey, cancellationToken);
        }
        var next = await FinishAsync(account.Id, newKey, SecurityEventKind.PasswordResetWithNewKey, AccountNotice.PasswordResetWithNewKey, cancellationToken);
        if (!hadTwoFactor)
        {
            return Redirect(next);
        }
        Step = ForgotPasswordStep.Codes;
        return Page();
    }

    private async Task<string> FinishAsync(Guid accountId, Vault.Crypto.AgeIdentity key, SecurityEventKind kind, AccountNotice notice, CancellationToken cancellationToken)
    {
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await vault.Accounts.AsNoTracking().SingleAsync(a => a.Id == accountId, cancellationToken);
        await signIn.SecondFactorSucceededAsync(account.Email, RateLimits.ClientIp(HttpContext), cancellationToken);
        await events.RecordAsync(accountId, kind, HttpContext, cancellationToken);
        await notices.SendAsync(accountId, notice, cancellationToken);
        return await completion.CompleteAsync(HttpContext, account, key, "/mailbox", cancellationToken);
    }

    private async Task<IActionResult> SendAgainAsync(bool backupPhone)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is null || request.SmsVerifiedAt is not null || request.BackupCodeUsedAt is not null)
        {
            return Redirect("/signin/forgot");
        }
        await recoveries.SendCodeAsync(request, backupPhone ? account?.BackupPhone : request.Phone, RateLimits.ClientIp(HttpContext), cancellationToken);
        Step = ForgotPasswordStep.Code;
        Info = backupPhone ? "ForgotSentToBackupPhone" : "ForgotCodeSent";
        return Page();
    }

    private async Task<IActionResult> WrongAsync(RecoveryRequest request, Account? account, ForgotPasswordStep step, string error)
    {
        if (!await recoveries.FailAsync(HttpContext, request, account?.Email ?? "", HttpContext.RequestAborted))
        {
            return Fail(ForgotPasswordStep.Email, "RecoveryTooManyAttempts", StatusCodes.Status400BadRequest);
        }
        return Fail(step, error, StatusCodes.Status400BadRequest);
    }

    private PageResult Fail(ForgotPasswordStep step, string error, int status)
    {
        Step = step;
        Error = error;
        Response.StatusCode = status;
        return Page();
    }

    private async Task<(RecoveryRequest? Request, Account? Account)> CurrentAsync(CancellationToken cancellationToken)
    {
        var request = await recoveries.FindAsync(HttpContext, RecoveryPurpose.ForgotPassword, cancellationToken);
        if (request?.AccountId is not { } accountId)
        {
            return (request, null);
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        return (request, await vault.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == accountId && a.State == AccountState.Active, cancellationToken));
    }

    private async Task ShowAsync(RecoveryRequest? request, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            Step = ForgotPasswordStep.Email;
        }
        else if (request.BackupCodeUsedAt is not null)
        {
            Step = ForgotPasswordStep.NewPassword;
        }
        else if (request is { SmsVerifiedAt: not null, AccountId: { } accountId })
        {
            Step = request.SecondFactorVerifiedAt is null && await twoFactor.IsEnabledAsync(accountId, cancellationToken)
                ? ForgotPasswordStep.Authenticator
                : ForgotPasswordStep.NewKey;
            if (Step == ForgotPasswordStep.NewKey)
            {
                ToLock = await reset.MessagesToLockAsync(accountId, cancellationToken);
            }
        }
        else
        {
            Step = ForgotPasswordStep.Code;
        }
    }
}
