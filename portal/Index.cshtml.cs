using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SecureMailbox.Portal.Sessions;

namespace SecureMailbox.Portal;

public sealed class HomePage(SessionStore sessions) : PageModel
{
    public async Task<IActionResult> OnGetAsync() =>
        Redirect(await sessions.ResolveAsync(HttpContext, HttpContext.RequestAborted) is null ? "/signin" : "/mailbox");
}
