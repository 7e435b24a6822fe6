using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts.Recovery;
using SecureMailbox.Portal.Accounts.TwoFactor;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts;

public enum LostAuthenticatorStep
{
    Credentials,
    Confirm,
    NotEnabled,
    Done,
}

/// <summary>
/// "Förlorat din authenticator?" (FAQ): e-mail and password as at sign-in (same answers for unknown accounts), then
/// an SMS code to the registered or backup phone, or a backup code, instead of the app's code. Then 2FA is off and
/// the user is signed in and told to turn it on again. The key comes from the password (kept wrapped under the
/// recovery cookie in between), so nothing is lost.
/// </summary>
[RequestSizeLimit(16 * 1024)]
[EvenTiming]
public sealed class LostAuthenticatorPage(
    RecoveryRequests recoveries,
    TwoFactorRecovery recovery,
    BackupCodes backupCodes,
    SignInService signIn,
    SignInCompletion completion,
    Security.SecurityEvents events,
    AccountNotices notices,
    IDbContextFactory<VaultDbContext> vaultFactory) : PageModel
{
    public LostAuthenticatorStep Step { get; private set; }

    public string? Error { get; private set; }

    public string? Info { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        Step = await recoveries.FindAsync(HttpContext, RecoveryPurpose.LostAuthenticator, HttpContext.RequestAborted) is null
            ? LostAuthenticatorStep.Credentials
            : LostAuthenticatorStep.Confirm;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? email, [FromForm] string? password)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var result = await signIn.SignInAsync(email, password, RateLimits.ClientIp(HttpContext), cancellationToken);
        using var key = result.Key;
        switch (result.Outcome)
        {
            case SignInOutcome.SecondFactorRequired:
                var request = await recoveries.StartAsync(HttpContext, RecoveryPurpose.LostAuthenticator, result.Account!.Id, key, cancellationToken);
                await recoveries.SendCodeAsync(request, result.Account.Phone, RateLimits.ClientIp(HttpContext), cancellationToken);
                return Redirect("/signin/lost-authenticator");
            case SignInOutcome.Success:
                // The password was right and there is no second factor to lose: nothing changes, sign in as usual.
                Step = LostAuthenticatorStep.NotEnabled;
                return Page();
            default:
                if (result.FailedAccountId is { } failed)
                {
                    await events.RecordAsync(failed, SecurityEventKind.SignInFailed, HttpContext, cancellationToken);
                }
                var throttled = result.Outcome == SignInOutcome.Throttled;
                return Fail(LostAuthenticatorStep.Credentials, throttled ? "SignInThrottled" : "SignInFailed",
                    throttled ? StatusCodes.Status429TooManyRequests : StatusCodes.Status401Unauthorized);
        }
    }

    /// <summary>"Skicka till min reservtelefon" (nothing is sent when there is none; the answer is the same).</summary>
    public async Task<IActionResult> OnPostBackupPhoneAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is null || account is null)
        {
            return Redirect("/signin/lost-authenticator");
        }
        await recoveries.SendCodeAsync(request, account.BackupPhone, RateLimits.ClientIp(HttpContext), cancellationToken);
        Step = LostAuthenticatorStep.Confirm;
        Info = "ForgotSentToBackupPhone";
        return Page();
    }

    public async Task<IActionResult> OnPostSmsAsync([FromForm] string? code)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is null || account is null)
        {
            return Redirect("/signin/lost-authenticator");
        }
        if (!await signIn.TrySecondFactorAttemptAsync(account.Email, RateLimits.ClientIp(HttpContext), cancellationToken))
        {
            return Fail(LostAuthenticatorStep.Confirm, "SignInThrottled", StatusCodes.Status429TooManyRequests);
        }
        // Only the whole cookie (its key opens the kept key) gets to spend the code.
        using var key = recoveries.UnwrapKey(HttpContext, request);
        if (key is null)
        {
            return Redirect("/signin/lost-authenticator");
        }
        if (await recoveries.CheckCodeAsync(request, code, cancellationToken) != Verification.CheckOutcome.Correct)
        {
            return await WrongAsync(request, account, "ForgotCodeWrong");
        }
        await recoveries.EndAsync(HttpContext, cancellationToken);
        return await FinishAsync(account, key, cancellationToken);
    }

    public async Task<IActionResult> OnPostBackupCodeAsync([FromForm] string? backupCode)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var (request, account) = await CurrentAsync(cancellationToken);
        if (request is null || account is null)
        {
            return Redirect("/signin/lost-authenticator");
        }
        if (!await signIn.TrySecondFactorAttemptAsync(account.Email, RateLimits.ClientIp(HttpContext), cancellationToken))
        {
            return Fail(LostAuthenticatorStep.Confirm, "SignInThrottled", StatusCodes.Status429TooManyRequests);
        }
        using (var kept = recoveries.UnwrapKey(HttpContext, request))
        {
            if (kept is null)
            {
                return Redirect("/signin/lost-authenticator");
            }
        }
        using var key = await backupCodes.UseAsync(account.Id, backupCode, cancellationToken);
        if (key is null)
        {
            return await WrongAsync(request, account, "ForgotBackupCodeWrong");
        }
        await events.RecordAsync(account.Id, SecurityEventKind.BackupCodeUsed, HttpContext, cancellationToken);
        await recoveries.EndAsync(HttpContext, cancellationToken);
        return await FinishAsync(account, key, cancellationToken);
    }

    private async Task<IActionResult> FinishAsync(Account account, AgeIdentity key, CancellationToken cancellationToken)
    {
        await recovery.TurnOffAsync(account.Id, cancellationToken);
        await signIn.SecondFactorSucceededAsync(account.Email, RateLimits.ClientIp(HttpContext), cancellationToken);
        await events.RecordAsync(account.Id, SecurityEventKind.TwoFactorRecovered, HttpContext, cancellationToken);
        await notices.SendAsync(account.Id, AccountNotice.TwoFactorRecovered, cancellationToken);
        await completion.CompleteAsync(HttpContext, account, key, "/mailbox", cancellationToken);
        ViewData["SignedIn"] = true;
        Step = LostAuthenticatorStep.Done;
        return Page();
    }

    private async Task<IActionResult> WrongAsync(RecoveryRequest request, Account account, string error) =>
        await recoveries.FailAsync(HttpContext, request, account.Email, HttpContext.RequestAborted)
            ? Fail(LostAuthenticatorStep.Confirm, error, StatusCodes.Status400BadRequest)
            : Fail(LostAuthenticatorStep.Credentials, "RecoveryTooManyAttempts", StatusCodes.Status400BadRequest);

    private PageResult Fail(LostAuthenticatorStep step, string error, int status)
    {
        Step = step;
        Error = error;
        Response.StatusCode = status;
        return Page();
    }

    private async Task<(RecoveryRequest? Request, Account? Account)> CurrentAsync(CancellationToken cancellationToken)
    {
        var request = await recoveries.FindAsync(HttpContext, RecoveryPurpose.LostAuthenticator, cancellationToken);
        if (request?.AccountId is not { } accountId)
        {
            return (null, null);
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        return (request, await vault.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == accountId && a.State == AccountState.Active, cancellationToken));
    }
}
