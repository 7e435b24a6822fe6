using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SecureMailbox.Portal.Sessions;

/// <summary>A page for signed-in accounts only: without a live session it redirects to sign-in (local return URL).</summary>
public abstract class SignedInPageModel(SessionStore sessions) : PageModel
{
    protected SignedInSession Session { get; private set; } = null!;

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
