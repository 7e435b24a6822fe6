using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Links;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts;

/// <summary>After a correct code: choose a password; the link key becomes the account's key pair and a session starts.</summary>
[RequestSizeLimit(64 * 1024)]
public sealed class WelcomePage(
    PreSessionStore preSessions,
    PasswordPolicy passwords,
    AccountKeys keys,
    SessionStore sessions,
    IDbContextFactory<VaultDbContext> vaultFactory) : PageModel
{
    private PreSession _preSession = null!;

    public string Email { get; private set; } = "";

    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync([FromForm] string? password, [FromForm] string? confirm)
    {
        if (!await LoadAsync())
        {
            return NotFound();
        }
        Problem = passwords.Problem(password) ?? (string.Equals(password, confirm, StringComparison.Ordinal) ? null : "PasswordMismatch");
        if (Problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        using var linkKey = preSessions.UnlockLinkKey(HttpContext, _preSession);
        if (linkKey is null || !await keys.ActivateAsync(_preSession.AccountId, _preSession.LinkId, linkKey, password!, HttpContext.RequestAborted))
        {
            return NotFound();
        }
        await preSessions.EndAsync(HttpContext, _preSession.Id, HttpContext.RequestAborted);
        await sessions.StartAsync(HttpContext, _preSession.AccountId, linkKey, HttpContext.RequestAborted);
        await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
        var itemId = await db.MailboxItems.Where(i => i.AccountId == _preSession.AccountId && i.MessageId == _preSession.MessageId)
            .Select(i => (Guid?)i.Id).FirstOrDefaultAsync(HttpContext.RequestAborted);
        return Redirect(itemId is null ? "/mailbox" : $"/mailbox/m/{itemId}");
    }

    private async Task<bool> LoadAsync()
    {
        var preSession = await preSessions.FindAsync(HttpContext, HttpContext.RequestAborted);
        if (preSession?.VerifiedAt is null)
        {
            return false;
        }
        _preSession = preSession;
        await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
        var account = await db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == preSession.AccountId, HttpContext.RequestAborted);
        if (account is null || account.State != AccountState.Pending)
        {
            return false;
        }
        Email = account.Email;
        return true;
    }
}
