using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts.TwoFactor;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts;

/// <summary>
/// The second sign-in step: a code from the authenticator app or a backup code. Only a live pending sign-in (its
/// cookie) reaches the form; wrong codes count towards the sign-in throttling and the pending sign-in's 5 attempts.
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class SecondFactorPage(
    PendingSignIns pendingSignIns,
    TwoFactorAccounts twoFactor,
    BackupCodes backupCodes,
    SignInService signIn,
    SignInCompletion completion,
    Security.SecurityEvents events,
    IDbContextFactory<VaultDbContext> vaultFactory) : PageModel
{
    public bool Failed { get; private set; }

    public bool Throttled { get; private set; }

    public async Task<IActionResult> OnGetAsync() =>
        await pendingSignIns.FindAsync(HttpContext, HttpContext.RequestAborted) is null ? Redirect("/signin") : Page();

    public async Task<IActionResult> OnPostAsync([FromForm] string? code, [FromForm] string? backupCode)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var pending = await pendingSignIns.FindAsync(HttpContext, cancellationToken);
        if (pending is null)
        {
            return Redirect("/signin");
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == pending.AccountId, cancellationToken);
        var ip = RateLimits.ClientIp(HttpContext);
        if (!await signIn.TrySecondFactorAttemptAsync(account.Email, ip, cancellationToken))
        {
            Failed = Throttled = true;
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return Page();
        }
        if (!await pendingSignIns.TryAttemptAsync(pending, cancellationToken))
        {
            await pendingSignIns.EndAsync(HttpContext, cancellationToken);
            return Redirect("/signin");
        }
        Vault.Crypto.AgeIdentity? key = null;
        if (!string.IsNullOrWhiteSpace(code) && await twoFactor.VerifyAsync(account.Id, code, cancellationToken))
        {
            key = await pendingSignIns.CompleteAsync(HttpContext, pending, cancellationToken);
        }
        else if (string.IsNullOrWhiteSpace(code) && !string.IsNullOrWhiteSpace(backupCode))
        {
            // The backup code unwraps its own copy of the account key (and is used up); the pending one is dropped.
            key = await backupCodes.UseAsync(account.Id, backupCode, cancellationToken);
            if (key is not null)
            {
                await pendingSignIns.EndAsync(HttpContext, cancellationToken);
                await events.RecordAsync(account.Id, Data.SecurityEventKind.BackupCodeUsed, HttpContext, cancellationToken);
            }
        }
        if (key is null)
        {
            signIn.SecondFactorFailed(ip);
            await events.RecordAsync(account.Id, Data.SecurityEventKind.SecondFactorFailed, HttpContext, cancellationToken);
            if (!await pendingSignIns.HasAttemptsLeftAsync(pending, cancellationToken))
            {
                await pendingSignIns.EndAsync(HttpContext, cancellationToken);
                return Redirect("/signin");
            }
            Failed = true;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        using (key)
        {
            await signIn.SecondFactorSucceededAsync(account.Email, ip, cancellationToken);
            return Redirect(await completion.CompleteAsync(HttpContext, account, key, pending.ReturnUrl, cancellationToken));
        }
    }
}
