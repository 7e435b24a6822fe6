using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SecureMailbox.Portal.Sessions;

/// <summary>A page for signed-in accounts only: without a live session it redirects to sign-in (local return URL).</summary>
public abstract class SignedInPageModel(SessionStore sessions) : PageModel
{
    protected SignedInSession Session { get; private set; } = null!;

    /// <summary>
    /// Null when password and second factor were re-entered in this session in the last minutes (docs/rules.md A13);
    /// otherwise the redirect to the confirmation page, which comes back to <paramref name="returnPath"/>.
    /// </summary>
    protected async Task<IActionResult?> RequireRecentAuthenticationAsync(string returnPath) =>
        await sessions.IsRecentlyAuthenticatedAsync(Session, HttpContext.RequestAborted)
            ? null
            : new RedirectResult("/settings/confirm?returnUrl=" + Uri.EscapeDataString(returnPath));

    /// <summary>Whether a change may go ahead without a detour to the confirmation page (pages offer the form or the link).</summary>
    protected Task<bool> IsRecentlyAuthenticatedAsync() => sessions.IsRecentlyAuthenticatedAsync(Session, HttpContext.RequestAborted);

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var session = await sessions.ResolveAsync(HttpContext, HttpContext.RequestAborted);
        if (session is null)
        {
            var returnUrl = HttpMethods.IsGet(Request.Method) ? Request.Path + Request.QueryString : "/mailbox";
            context.Result = new RedirectResult("/signin?returnUrl=" + Uri.EscapeDataString(returnUrl));
            return;
        }
        Session = session;
        ViewData["SignedIn"] = true;
        await next();
    }
}
