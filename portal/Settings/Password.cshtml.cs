using Microsoft.AspNetCore.Mvc;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Accounts.Security;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Sessions;

namespace SecureMailbox.Portal.Settings;

/// <summary>
/// Change password (signed in, after re-authentication): the account's key pair is re-wrapped under the new password,
/// so every message stays readable; every other session ends; the owner gets a notice.
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class PasswordPage(
    SessionStore sessions,
    PasswordPolicy passwords,
    AccountKeys keys,
    SecurityEvents events,
    AccountNotices notices) : SignedInPageModel(sessions)
{
    private const string Path = "/settings/password";

    private readonly SessionStore _sessions = sessions;

    public string? Problem { get; private set; }

    public bool Changed { get; private set; }

    public async Task<IActionResult> OnGetAsync([FromQuery] bool changed)
    {
        Changed = changed;
        return changed ? Page() : await RequireRecentAuthenticationAsync(Path) ?? Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? password, [FromForm] string? confirm)
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (await RequireRecentAuthenticationAsync(Path) is { } redirect)
        {
            return redirect;
        }
        Problem = passwords.Problem(password) ?? (string.Equals(password, confirm, StringComparison.Ordinal) ? null : "PasswordMismatch");
        if (Problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        if (!await keys.ChangePasswordAsync(Session.AccountId, Session.Key, password!, cancellationToken))
        {
            return NotFound();
        }
        await _sessions.EndOthersAsync(Session.AccountId, Session.RowId, cancellationToken);
        await events.RecordAsync(Session.AccountId, SecurityEventKind.PasswordChanged, HttpContext, cancellationToken);
        await notices.SendAsync(Session.AccountId, AccountNotice.PasswordChanged, cancellationToken);
        return Redirect(Path + "?changed=true");
    }
}
