using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Settings;

/// <summary>Language (Swedish default, English) and whether notifications may show the subject (default no).</summary>
public sealed class SettingsPage(SessionStore sessions, IDbContextFactory<VaultDbContext> vaultFactory, CookiePolicy cookies, SettingsOverview overview)
    : SignedInPageModel(sessions)
{
    public string Language { get; private set; } = "sv";

    public bool ShowSubject { get; private set; }

    public bool Saved { get; private set; }

    public bool TwoFactorOn { get; private set; }

    public int BackupCodesLeft { get; private set; }

    public string? MaskedPhone { get; private set; }

    public string? MaskedBackupPhone { get; private set; }

    public async Task OnGetAsync([FromQuery] bool saved)
    {
        var state = await overview.ReadAsync(Session.AccountId, HttpContext.RequestAborted);
        Language = state.Language;
        ShowSubject = state.ShowSubject;
        TwoFactorOn = state.TwoFactorOn;
        BackupCodesLeft = state.BackupCodesLeft;
        MaskedPhone = state.MaskedPhone;
        MaskedBackupPhone = state.MaskedBackupPhone;
        Saved = saved;
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? language, [FromForm] bool showSubject)
    {
        if (language is not ("sv" or "en"))
        {
            return BadRequest();
        }
        await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
        var account = await db.Accounts.SingleAsync(a => a.Id == Session.AccountId, HttpContext.RequestAborted);
        account.Language = language;
        account.ShowSubjectInNotifications = showSubject;
        await db.SaveChangesAsync(HttpContext.RequestAborted);
        PortalLocalizationServiceCollectionExtensions.SetLanguageCookie(HttpContext, cookies, language);
        return Redirect("/settings?saved=true");
    }
}
