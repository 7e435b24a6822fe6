using Microsoft.AspNetCore.Mvc;
using SecureMailbox.Portal.Accounts.Security;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;

namespace SecureMailbox.Portal.Settings;

/// <summary>
/// "Confirm it's you": password and second factor again before a sensitive change (docs/rules.md A13); then back to
/// the page that asked (a local <c>/settings</c> path only).
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class ConfirmPage(SessionStore sessions, Reauthentication reauthentication) : SignedInPageModel(sessions)
{
    public string ReturnUrl { get; private set; } = "/settings";

    public bool TwoFactorOn { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(string? returnUrl)
    {
        ReturnUrl = SettingsReturnUrl(returnUrl);
        TwoFactorOn = await reauthentication.IsTwoFactorOnAsync(Session, HttpContext.RequestAborted);
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? password, [FromForm] string? code, [FromForm] string? backupCode, [FromForm] string? returnUrl)
    {
        ReturnUrl = SettingsReturnUrl(returnUrl);
        TwoFactorOn = await reauthentication.IsTwoFactorOnAsync(Session, HttpContext.RequestAborted);
        var outcome = await reauthentication.ConfirmAsync(HttpContext, Session, password, code, backupCode, HttpContext.RequestAborted);
        if (outcome == ReauthenticationOutcome.Confirmed)
        {
            return Redirect(ReturnUrl);
        }
        (Error, Response.StatusCode) = outcome switch
        {
            ReauthenticationOutcome.Throttled => ("SignInThrottled", StatusCodes.Status429TooManyRequests),
            ReauthenticationOutcome.WrongPassword => ("WrongPassword", StatusCodes.Status401Unauthorized),
            _ => ("WrongCode", StatusCodes.Status401Unauthorized),
        };
        return Page();
    }

    /// <summary>Only the settings pages and the export ask for confirmation, so only they are places to go back to.</summary>
    public static string SettingsReturnUrl(string? returnUrl)
    {
        var local = LocalReturnUrl.Or(returnUrl, "/settings");
        return local is "/settings" or "/export" || local.StartsWith("/settings/", StringComparison.Ordinal) ? local : "/settings";
    }
}
