using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Links;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts;

/// <summary>
/// E-mail and password. A pre-session from a later link for the same account is claimed into the account here.
/// Return URLs are local only (E4).
/// </summary>
[RequestSizeLimit(64 * 1024)]
[EvenTiming]
public sealed class SignInPage(
    SignInService signIn,
    SessionStore sessions,
    SignInCompletion completion,
    TwoFactor.PendingSignIns pendingSignIns,
    Security.SecurityEvents events) : PageModel
{
    public string ReturnUrl { get; private set; } = "/mailbox";

    public string Email { get; private set; } = "";

    public bool Failed { get; private set; }

    public bool Throttled { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? returnUrl)
    {
        ReturnUrl = LocalReturnUrl.Or(returnUrl, "/mailbox");
        // Already signed in (a link from a later notification): straight on, unless a link waits to be claimed.
        if (ReturnUrl != "/claim" && await sessions.ResolveAsync(HttpContext, HttpContext.RequestAborted) is not null)
        {
            return Redirect(ReturnUrl);
        }
        return Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? email, [FromForm] string? password, [FromForm] string? returnUrl)
    {
        ReturnUrl = LocalReturnUrl.Or(returnUrl, "/mailbox");
        Email = email is { Length: <= 320 } ? email : "";
        var result = await signIn.SignInAsync(email, password, RateLimits.ClientIp(HttpContext), HttpContext.RequestAborted);
        if (result.Outcome is not (SignInOutcome.Success or SignInOutcome.SecondFactorRequired))
        {
            Failed = true;
            Throttled = result.Outcome == SignInOutcome.Throttled;
            if (result.FailedAccountId is { } failed)
            {
                await events.RecordAsync(failed, Data.SecurityEventKind.SignInFailed, HttpContext, HttpContext.RequestAborted);
            }
            Response.StatusCode = Throttled ? StatusCodes.Status429TooManyRequests : StatusCodes.Status401Unauthorized;
            return Page();
        }
        using var key = result.Key!;
        if (result.Outcome == SignInOutcome.SecondFactorRequired)
        {
            // Nothing is unlocked yet: the key waits wrapped under the pending cookie's secret for the second step.
            await pendingSignIns.StartAsync(HttpContext, result.Account!.Id, key, ReturnUrl, HttpContext.RequestAborted);
            return Redirect("/signin/second-factor");
        }
        return Redirect(await completion.CompleteAsync(HttpContext, result.Account!, key, ReturnUrl, HttpContext.RequestAborted));
    }
}
