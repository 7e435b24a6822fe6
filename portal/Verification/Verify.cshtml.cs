using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Links;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Verification;

/// <summary>The pre-session's page: send an SMS code to the masked number, check it, or notify the sender.</summary>
public sealed class VerifyPage(
    PreSessionStore preSessions,
    SmsCodes codes,
    SenderNotice notice,
    IDbContextFactory<VaultDbContext> vaultFactory,
    IStringLocalizer<SharedResource> texts) : PageModel
{
    private PreSession _preSession = null!;

    public string? MaskedPhone { get; private set; }

    public bool HasAccount { get; private set; }

    public string? Message { get; private set; }

    public bool IsError { get; private set; }

    public bool CodeSent { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostSendAsync()
    {
        if (!await LoadAsync() || HasAccount)
        {
            return NotFound();
        }
        var result = await codes.SendAsync(_preSession, RateLimits.ClientIp(HttpContext), HttpContext.RequestAborted);
        CodeSent = result.Outcome is SendOutcome.Sent or SendOutcome.TooSoon;
        (Message, IsError) = result.Outcome switch
        {
            SendOutcome.Sent => (texts["CodeSent"].Value, false),
            SendOutcome.TooSoon => (texts["WaitBeforeResend", (int)Math.Ceiling(result.RetryAfter.TotalSeconds)].Value, true),
            SendOutcome.CountryNotAllowed => (texts["CountryNotAllowed"].Value, true),
            _ => (texts["TooManyCodes"].Value, true),
        };
        if (result.Outcome != SendOutcome.Sent)
        {
            Response.StatusCode = result.Outcome == SendOutcome.CountryNotAllowed ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status429TooManyRequests;
        }
        return Page();
    }

    public async Task<IActionResult> OnPostCheckAsync([FromForm] string? code)
    {
        if (!await LoadAsync() || HasAccount)
        {
            return NotFound();
        }
        CodeSent = true;
        var outcome = await codes.CheckAsync(_preSession, code is { Length: <= 32 } ? code : null, HttpContext.RequestAborted);
        if (outcome == CheckOutcome.Correct)
        {
            await preSessions.MarkVerifiedAsync(_preSession.Id, HttpContext.RequestAborted);
            return Redirect("/welcome");
        }
        (Message, IsError) = (outcome switch
        {
            CheckOutcome.Wrong => texts["CodeWrong"].Value,
            CheckOutcome.Expired => texts["CodeExpired"].Value,
            CheckOutcome.TooManyChecks => texts["CodeTooManyChecks"].Value,
            _ => texts["CodeNone"].Value,
        }, true);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    public async Task<IActionResult> OnPostNotifyAsync()
    {
        if (!await LoadAsync() || HasAccount)
        {
            return NotFound();
        }
        await notice.SendAsync(_preSession, HttpContext.RequestAborted);
        (Message, IsError) = (texts["SenderNotified"].Value, false);
        return Page();
    }

    private async Task<bool> LoadAsync()
    {
        var preSession = await preSessions.FindAsync(HttpContext, HttpContext.RequestAborted);
        if (preSession is null)
        {
            return false;
        }
        _preSession = preSession;
        MaskedPhone = preSession.Phone is null ? null : PhoneNumberRules.Mask(preSession.Phone);
        await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
        HasAccount = await db.Accounts.AnyAsync(a => a.Id == preSession.AccountId && a.State == AccountState.Active, HttpContext.RequestAborted);
        return true;
    }
}
