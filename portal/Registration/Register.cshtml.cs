using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SecureMailbox.Portal.Security;

namespace SecureMailbox.Portal.Registration;

/// <summary>"Skapa konto": e-mail and mobile number; the same answer whether the address has an account or not.</summary>
[RequestSizeLimit(16 * 1024)]
[EvenTiming]
public sealed class RegisterPage(RegistrationService registrations) : PageModel
{
    public string? Error { get; private set; }

    public string Email { get; private set; } = "";

    public string Phone { get; private set; } = "";

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? email, [FromForm] string? phone)
    {
        Email = email is { Length: <= 254 } ? email : "";
        Phone = phone is { Length: <= 40 } ? phone : "";
        var outcome = await registrations.RequestAsync(email, phone, RateLimits.ClientIp(HttpContext), HttpContext.RequestAborted);
        if (outcome == RegistrationRequestOutcome.Mailed)
        {
            return Redirect("/register/sent");
        }
        (Error, Response.StatusCode) = outcome switch
        {
            RegistrationRequestOutcome.InvalidEmail => ("RegisterInvalidEmail", StatusCodes.Status400BadRequest),
            RegistrationRequestOutcome.InvalidPhone => ("RegisterInvalidPhone", StatusCodes.Status400BadRequest),
            _ => ("SignInThrottled", StatusCodes.Status429TooManyRequests),
        };
        return Page();
    }
}
