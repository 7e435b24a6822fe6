using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SecureMailbox.Portal.Registration;

/// <summary>
/// The mailed registration link. GET only shows a button (mail scanners fetch links); the POST uses the link once,
/// sends the SMS code and goes on. Unknown, used and expired links get one neutral answer.
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class RegisterLinkPage(RegistrationService registrations) : PageModel
{
    public string Token { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string? token)
    {
        if (!await registrations.IsUsableAsync(token, HttpContext.RequestAborted))
        {
            return Invalid();
        }
        Token = token!;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? token) =>
        await registrations.UseLinkAsync(HttpContext, token, HttpContext.RequestAborted) ? Redirect("/register/continue") : Invalid();

    private PageResult Invalid()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        Token = "";
        return Page();
    }
}
