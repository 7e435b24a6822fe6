using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Accounts.Security;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Portal.Verification;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Registration;

/// <summary>After the mailed link: the SMS code to the number given, then the password; then signed in.</summary>
[RequestSizeLimit(16 * 1024)]
public sealed class RegisterContinuePage(
    RegistrationService registrations,
    PasswordPolicy passwords,
    SessionStore sessions,
    SecurityEvents events) : PageModel
{
    private Data.Registration _registration = null!;

    public bool PhoneVerified { get; private set; }

    public string MaskedPhone { get; private set; } = "";

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : Redirect("/register");

    public async Task<IActionResult> OnPostCheckAsync([FromForm] string? code)
    {
        if (!await LoadAsync() || PhoneVerified)
        {
            return Redirect("/register");
        }
        var outcome = await registrations.CheckCodeAsync(_registration, code, HttpContext.RequestAborted);
        if (outcome == CheckOutcome.Correct)
        {
            return Redirect("/register/continue");
        }
        Error = outcome switch
        {
            CheckOutcome.Wrong => "CodeWrong",
            CheckOutcome.Expired => "CodeExpired",
            CheckOutcome.TooManyChecks => "CodeTooManyChecks",
            _ => "CodeNone",
        };
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    public async Task<IActionResult> OnPostResendAsync()
    {
        if (!await LoadAsync() || PhoneVerified)
        {
            return Redirect("/register");
        }
        var sent = await registrations.ResendAsync(HttpContext, _registration, HttpContext.RequestAborted);
        if (sent.Outcome != SendOutcome.Sent)
        {
            Error = "TooManyCodes";
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
        }
        return Page();
    }

    public async Task<IActionResult> OnPostPasswordAsync([FromForm] string? password, [FromForm] string? confirm)
    {
        if (!await LoadAsync() || !PhoneVerified)
        {
            return Redirect("/register");
        }
        Error = passwords.Problem(password) ?? (string.Equals(password, confirm, StringComparison.Ordinal) ? null : "PasswordMismatch");
        if (Error is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        var created = await registrations.CompleteAsync(HttpContext, _registration, password!, HttpContext.RequestAborted);
        if (created is not { } done)
        {
            // The address got an account meanwhile (e.g. through a message link): sign in instead.
            return Redirect("/signin");
        }
        using (done.Key)
        {
            await sessions.StartAsync(HttpContext, done.Account.Id, done.Key, HttpContext.RequestAborted);
        }
        await events.RecordAsync(done.Account.Id, SecurityEventKind.SignedIn, HttpContext, HttpContext.RequestAborted);
        return Redirect("/mailbox");
    }

    private async Task<bool> LoadAsync()
    {
        var registration = await registrations.FindAsync(HttpContext, HttpContext.RequestAborted);
        if (registration is null)
        {
            return false;
        }
        _registration = registration;
        PhoneVerified = registration.PhoneVerifiedAt is not null;
        MaskedPhone = PhoneNumberRules.Mask(registration.Phone);
        return true;
    }
}
