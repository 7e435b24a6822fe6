using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Accounts.Phones;
using SecureMailbox.Portal.Accounts.Security;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Settings;

/// <summary>
/// Settings → Mobile number: the number and the backup phone (FAQ: without a backup phone or printed codes, losing
/// the phone locks you out), adding and removing the backup phone, and changing the number (FAQ "Jag har bytt
/// telefonnummer…"). Each change starts only after re-authentication (docs/rules.md A13), is recorded and mailed.
/// </summary>
[RequestSizeLimit(16 * 1024)]
public sealed class PhonePage(
    SessionStore sessions,
    PhoneChanges changes,
    SignInService signIn,
    IDbContextFactory<VaultDbContext> vaultFactory,
    SecurityEvents events,
    AccountNotices notices,
    ILogger<PhonePage> logger) : SignedInPageModel(sessions)
{
    private const string Path = "/settings/phone";

    public const string SupportAddress = "support@securemailbox.com";

    public string? MaskedPhone { get; private set; }

    public string? MaskedBackupPhone { get; private set; }

    public bool OrganisationAccount { get; private set; }

    public bool Reauthenticated { get; private set; }

    public PhoneChangeStep Step { get; private set; }

    /// <summary>The masked number the awaited code went to.</summary>
    public string? CodeSentTo { get; private set; }

    public string? Error { get; private set; }

    public string? Done { get; private set; }

    public async Task OnGetAsync([FromQuery] string? done)
    {
        Done = done is "BackupPhoneSaved" or "BackupPhoneRemoved" or "PhoneSaved" ? done : null;
        await ShowAsync();
    }

    public async Task<IActionResult> OnPostAddBackupAsync([FromForm] string? number)
    {
        var redirect = await RequireRecentAuthenticationAsync(Path);
        if (redirect is not null)
        {
            return redirect;
        }
        var outcome = await changes.StartBackupPhoneAsync(Session.RowId, Session.AccountId, number, RateLimits.ClientIp(HttpContext), HttpContext.RequestAborted);
        return await AnswerAsync(outcome);
    }

    public async Task<IActionResult> OnPostRemoveBackupAsync()
    {
        var redirect = await RequireRecentAuthenticationAsync(Path);
        if (redirect is not null)
        {
            return redirect;
        }
        var cancellationToken = HttpContext.RequestAborted;
        if (await changes.RemoveBackupPhoneAsync(Session.AccountId, cancellationToken))
        {
            logger.LogInformation("Backup phone removed from account {AccountId}", Session.AccountId);
            await events.RecordAsync(Session.AccountId, SecurityEventKind.BackupPhoneRemoved, HttpContext, cancellationToken);
            await notices.SendAsync(Session.AccountId, AccountNotice.BackupPhoneRemoved, cancellationToken);
        }
        return Redirect(Path + "?done=BackupPhoneRemoved");
    }

    /// <summary>Proof for a number change: a code to the current number (<paramref name="to"/> = main) or the backup phone.</summary>
    public async Task<IActionResult> OnPostProveSmsAsync([FromForm] string? to)
    {
        var redirect = await RequireRecentAuthenticationAsync(Path);
        if (redirect is not null)
        {
            return redirect;
        }
        if (to is not ("main" or "backup"))
        {
            return BadRequest();
        }
        var outcome = await changes.StartProofBySmsAsync(Session.RowId, Session.AccountId, to == "backup", RateLimits.ClientIp(HttpContext), HttpContext.RequestAborted);
        return await AnswerAsync(outcome);
    }

    public async Task<IActionResult> OnPostProveBackupCodeAsync([FromForm] string? backupCode)
    {
        var redirect = await RequireRecentAuthenticationAsync(Path);
        if (redirect is not null)
        {
            return redirect;
        }
        var cancellationToken = HttpContext.RequestAborted;
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var email = await vault.Accounts.Where(a => a.Id == Session.AccountId).Select(a => a.Email).SingleAsync(cancellationToken);
        var ip = RateLimits.ClientIp(HttpContext);
        // Wrong backup codes count like wrong sign-in codes, so a stolen session cannot try codes without limit.
        if (!await signIn.TrySecondFactorAttemptAsync(email, ip, cancellationToken))
        {
            return await AnswerAsync(PhoneOutcome.WrongBackupCode);
        }
        var outcome = await changes.ProveWithBackupCodeAsync(Session.RowId, Session.AccountId, backupCode, cancellationToken);
        if (outcome == PhoneOutcome.WrongBackupCode)
        {
            signIn.SecondFactorFailed(ip);
            await events.RecordAsync(Session.AccountId, SecurityEventKind.SecondFactorFailed, HttpContext, cancellationToken);
        }
        else
        {
            await signIn.SecondFactorSucceededAsync(email, ip, cancellationToken);
            await events.RecordAsync(Session.AccountId, SecurityEventKind.BackupCodeUsed, HttpContext, cancellationToken);
        }
        return await AnswerAsync(outcome);
    }

    public async Task<IActionResult> OnPostNewNumberAsync([FromForm] string? number)
    {
        var request = await changes.CurrentAsync(Session.RowId, Session.AccountId, HttpContext.RequestAborted);
        if (request is null)
        {
            return Redirect(Path);
        }
        return await AnswerAsync(await changes.NewNumberAsync(request, number, RateLimits.ClientIp(HttpContext), HttpContext.RequestAborted));
    }

    public async Task<IActionResult> OnPostCodeAsync([FromForm] string? code)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var request = await changes.CurrentAsync(Session.RowId, Session.AccountId, cancellationToken);
        if (request is null)
        {
            return Redirect(Path);
        }
        var outcome = await changes.CheckCodeAsync(request, code, cancellationToken);
        if (outcome == PhoneOutcome.BackupPhoneSaved)
        {
            logger.LogInformation("Backup phone added to account {AccountId}", Session.AccountId);
            await events.RecordAsync(Session.AccountId, SecurityEventKind.BackupPhoneAdded, HttpContext, cancellationToken);
            await notices.SendAsync(Session.AccountId, AccountNotice.BackupPhoneAdded, cancellationToken);
        }
        else if (outcome == PhoneOutcome.PhoneSaved)
        {
            logger.LogInformation("Phone number of account {AccountId} changed", Session.AccountId);
            await events.RecordAsync(Session.AccountId, SecurityEventKind.PhoneChanged, HttpContext, cancellationToken);
            await notices.SendAsync(Session.AccountId, AccountNotice.PhoneChanged, cancellationToken);
        }
        return await AnswerAsync(outcome);
    }

    public async Task<IActionResult> OnPostResendAsync()
    {
        var request = await changes.CurrentAsync(Session.RowId, Session.AccountId, HttpContext.RequestAborted);
        if (request is null)
        {
            return Redirect(Path);
        }
        return await AnswerAsync(await changes.ResendAsync(request, RateLimits.ClientIp(HttpContext), HttpContext.RequestAborted));
    }

    public async Task<IActionResult> OnPostCancelAsync()
    {
        await changes.CancelAsync(Session.RowId, HttpContext.RequestAborted);
        return Redirect(Path);
    }

    /// <summary>Progress goes back to the page (post/redirect/get); a refusal shows the page with its reason.</summary>
    private async Task<IActionResult> AnswerAsync(PhoneOutcome outcome)
    {
        switch (outcome)
        {
            case PhoneOutcome.CodeSent or PhoneOutcome.Proven or PhoneOutcome.NoRequest:
                return Redirect(Path);
            case PhoneOutcome.BackupPhoneSaved or PhoneOutcome.PhoneSaved:
                return Redirect(Path + "?done=" + outcome);
        }
        Error = outcome switch
        {
            PhoneOutcome.NotAMobileNumber => "PhoneNotAMobileNumber",
            PhoneOutcome.CountryNotAllowed => "PhoneCountryNotAllowed",
            PhoneOutcome.SameAsMain => "BackupPhoneSameAsMain",
            PhoneOutcome.SameAsCurrent => "PhoneSameAsCurrent",
            PhoneOutcome.TooManyCodes => "TooManyCodes",
            PhoneOutcome.WrongCode => "CodeWrong",
            PhoneOutcome.CodeExpired => "CodeExpired",
            PhoneOutcome.TooManyChecks => "PhoneTooManyChecks",
            _ => "PhoneWrongBackupCode",
        };
        Response.StatusCode = StatusCodes.Status400BadRequest;
        await ShowAsync();
        return Page();
    }

    private async Task ShowAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await vault.Accounts.AsNoTracking().Where(a => a.Id == Session.AccountId)
            .Select(a => new { a.Phone, a.BackupPhone, a.OrganisationId }).SingleAsync(cancellationToken);
        MaskedPhone = account.Phone is null ? null : PhoneNumberRules.Mask(account.Phone);
        MaskedBackupPhone = account.BackupPhone is null ? null : PhoneNumberRules.Mask(account.BackupPhone);
        OrganisationAccount = account.OrganisationId is not null;
        Reauthenticated = await IsRecentlyAuthenticatedAsync();
        var request = await changes.CurrentAsync(Session.RowId, Session.AccountId, cancellationToken);
        Step = PhoneChanges.StepOf(request);
        var sentTo = Step switch
        {
            PhoneChangeStep.ProofCode => request!.Phone,
            PhoneChangeStep.BackupPhoneCode or PhoneChangeStep.NewNumberCode => request!.NewPhone,
            _ => null,
        };
        CodeSentTo = sentTo is null ? null : PhoneNumberRules.Mask(sentTo);
    }
}
