using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Localization;

/// <summary>
/// The language switch on every page (<c>POST /language</c>): remembers the choice in the language cookie and, for a
/// signed-in reader, in the account (which also decides the language of their notifications); then back to the page.
/// </summary>
public sealed class LanguagePage(CookiePolicy cookies, SessionStore sessions, IDbContextFactory<VaultDbContext> vaultFactory) : PageModel
{
    public IActionResult OnGet() => Redirect("/");

    public async Task<IActionResult> OnPostAsync([FromForm] string? language, [FromForm] string? returnUrl)
    {
        if (language is not ("sv" or "en"))
        {
            return BadRequest();
        }
        PortalLocalizationServiceCollectionExtensions.SetLanguageCookie(HttpContext, cookies, language);
        var session = await sessions.ResolveAsync(HttpContext, HttpContext.RequestAborted);
        if (session is not null)
        {
            await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
            await db.Accounts.Where(a => a.Id == session.AccountId)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Language, language), HttpContext.RequestAborted);
        }
        return LocalRedirect(LocalReturnUrl.Or(returnUrl, "/"));
    }
}
