using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Settings;

/// <summary>
/// Delete my account (after re-authentication and an explicit confirmation): everything is deleted at once
/// (<see cref="AccountDeletion"/>), this browser is signed out and sees a goodbye page.
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class DeletePage(SessionStore sessions, AccountDeletion deletion, IDbContextFactory<VaultDbContext> vaultFactory) : SignedInPageModel(sessions)
{
    private const string Path = "/settings/delete";

    private readonly SessionStore _sessions = sessions;

    public string Email { get; private set; } = "";

    public int MessageCount { get; private set; }

    public bool NotConfirmed { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await RequireRecentAuthenticationAsync(Path) is { } redirect)
        {
            return redirect;
        }
        await LoadAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm] bool understood)
    {
        if (await RequireRecentAuthenticationAsync(Path) is { } redirect)
        {
            return redirect;
        }
        if (!understood)
        {
            NotConfirmed = true;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync();
            return Page();
        }
        await deletion.DeleteAsync(Session.AccountId, HttpContext.RequestAborted);
        await _sessions.EndAsync(HttpContext, HttpContext.RequestAborted);
        return Redirect("/account-deleted");
    }

    private async Task LoadAsync()
    {
        await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
        Email = await db.Accounts.Where(a => a.Id == Session.AccountId).Select(a => a.Email).SingleAsync(HttpContext.RequestAborted);
        MessageCount = await db.MailboxItems.CountAsync(i => i.AccountId == Session.AccountId, HttpContext.RequestAborted);
    }
}
