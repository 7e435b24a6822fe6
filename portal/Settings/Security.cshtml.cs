using Microsoft.AspNetCore.Mvc;
using SecureMailbox.Portal.Accounts.Security;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Sessions;

namespace SecureMailbox.Portal.Settings;

/// <summary>
/// Settings → Security: where the account is signed in (device, network, when; sign out one of them) and what
/// happened to its security (sign-ins, failures, 2FA and phone changes, recoveries), newest first.
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class SecurityPage(SessionStore sessions, SecurityEvents events) : SignedInPageModel(sessions)
{
    private readonly SessionStore _sessions = sessions;

    public const int ShownEvents = 50;

    public IReadOnlyList<PortalSession> Sessions { get; private set; } = [];

    public IReadOnlyList<SecurityEvent> Events { get; private set; } = [];

    public string CurrentSessionId => Session.RowId;

    public bool Ended { get; private set; }

    public async Task OnGetAsync([FromQuery] bool ended)
    {
        Ended = ended;
        Sessions = await _sessions.ListAsync(Session.AccountId, HttpContext.RequestAborted);
        Events = await events.ListAsync(Session.AccountId, ShownEvents, HttpContext.RequestAborted);
    }

    /// <summary>Signs out one of the account's other sessions (this one signs out with the ordinary button).</summary>
    public async Task<IActionResult> OnPostEndAsync([FromForm] string? id)
    {
        if (id is not { Length: 64 } || id == Session.RowId || !await _sessions.EndOneAsync(Session.AccountId, id, HttpContext.RequestAborted))
        {
            return NotFound();
        }
        await events.RecordAsync(Session.AccountId, SecurityEventKind.SessionEnded, HttpContext, HttpContext.RequestAborted);
        return Redirect("/settings/security?ended=true");
    }
}
