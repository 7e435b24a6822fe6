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
public sealed class SignInPage(
    SignInService signIn,
    SessionStore sessions,
    PreSessionStore preSessions,
    AccountKeys keys,
    CookiePolicy cookies,
    IDbContextFactory<VaultDbContext> vaultFactory) : PageModel
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
        if (result.Outcome != SignInOutcome.Success)
        {
            Failed = true;
            Throttled = result.Outcome == SignInOutcome.Throttled;
            Response.StatusCode = Throttled ? StatusCodes.Status429TooManyRequests : StatusCodes.Status401Unauthorized;
            return Page();
        }
        using var key = result.Key!;
        var account = result.Account!;
        await sessions.StartAsync(HttpContext, account.Id, key, HttpContext.RequestAborted);
        PortalLocalizationServiceCollectionExtensions.SetLanguageCookie(HttpContext, cookies, account.Language);
        var preSession = await preSessions.FindAsync(HttpContext, HttpContext.RequestAborted);
        if (preSession is not null && preSession.AccountId == account.Id)
        {
            using var linkKey = preSessions.UnlockLinkKey(HttpContext, preSession);
            if (linkKey is not null)
            {
                await keys.ClaimAsync(account.Id, preSession.LinkId, linkKey, AgeRecipient.Parse(account.PublicKey!), HttpContext.RequestAborted);
            }
            await preSessions.EndAsync(HttpContext, preSession.Id, HttpContext.RequestAborted);
            await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
            var itemId = await db.MailboxItems.Where(i => i.AccountId == account.Id && i.MessageId == preSession.MessageId)
                .Select(i => (Guid?)i.Id).FirstOrDefaultAsync(HttpContext.RequestAborted);
            return Redirect(itemId is null ? "/mailbox" : $"/mailbox/m/{itemId}");
        }
        return Redirect(ReturnUrl == "/claim" ? "/mailbox" : ReturnUrl);
    }
}
