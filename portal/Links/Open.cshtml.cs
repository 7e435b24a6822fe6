using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SecureMailbox.Portal.Links;

/// <summary>
/// <c>GET /l/{token}</c> only looks (a mail scanner fetching the link uses nothing); the button POSTs the token once,
/// which starts the pre-session and redirects to <c>/verify</c>, a URL without the token. Unknown, expired, used and
/// forged tokens all get the same 404 page.
/// </summary>
public sealed class OpenLinkPage(LinkExchange links) : PageModel
{
    public string Token { get; private set; } = "";

    /// <summary>The link is the sender's own receipt: the page speaks to the sender, not to a recipient.</summary>
    public bool ForSender { get; private set; }

    /// <summary>A sender's link with no number on file: the sender registers (mail link + SMS) first.</summary>
    public bool RegisterFirst { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? token)
    {
        switch (await links.InspectAsync(token, HttpContext.RequestAborted))
        {
            case LinkState.Pending:
                Token = token!;
                ForSender = await links.IsSenderLinkAsync(token, HttpContext.RequestAborted);
                return Page();
            case LinkState.RegisterFirst:
                RegisterFirst = true;
                ForSender = true;
                return Page();
            case LinkState.SignIn:
                var item = await links.SignInTargetAsync(token, HttpContext.RequestAborted);
                return Redirect("/signin?returnUrl=" + Uri.EscapeDataString(item is null ? "/mailbox" : $"/mailbox/m/{item}"));
            default:
                return NotFound();
        }
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? token)
    {
        var preSession = await links.ExchangeAsync(HttpContext, token, HttpContext.RequestAborted);
        return preSession is null ? NotFound() : Redirect("/verify");
    }
}
