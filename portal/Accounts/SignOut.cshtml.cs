using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SecureMailbox.Portal.Sessions;

namespace SecureMailbox.Portal.Accounts;

/// <summary>POST only: sign out here, or everywhere (every session of the account).</summary>
public sealed class SignOutPage(SessionStore sessions, Security.SecurityEvents events) : PageModel
{
    public IActionResult OnGet() => NotFound();

    public async Task<IActionResult> OnPostAsync()
    {
        await sessions.EndAsync(HttpContext, HttpContext.RequestAborted);
        return Redirect("/signin");
    }

    public async Task<IActionResult> OnPostEverywhereAsync()
    {
        var session = await sessions.ResolveAsync(HttpContext, HttpContext.RequestAborted);
        if (session is not null)
        {
            await sessions.EndAllAsync(session.AccountId, HttpContext.RequestAborted);
            await events.RecordAsync(session.AccountId, Data.SecurityEventKind.SignedOutEverywhere, HttpContext, HttpContext.RequestAborted);
        }
        await sessions.EndAsync(HttpContext, HttpContext.RequestAborted);
        return Redirect("/signin");
    }
}
