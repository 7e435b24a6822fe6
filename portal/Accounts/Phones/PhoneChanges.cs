using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts.TwoFactor;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Verification;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Accounts.Phones;

public enum PhoneOutcome
{
    CodeSent,
    Proven,
    BackupPhoneSaved,
    PhoneSaved,
    NotAMobileNumber,
    CountryNotAllowed,
    SameAsMain,
    SameAsCurrent,
    TooManyCodes,
    WrongCode,
    CodeExpired,
    TooManyChecks,
    WrongBackupCode,
    NoRequest,
}

/// <summary>Where a phone change of one session stands (what the page asks for next).</summary>
public enum PhoneChangeStep
{
    None,
    BackupPhoneCode,
    ProofCode,
    NewNumber,
    NewNumberCode,
}

/// <summary>
/// Adding a backup phone and changing the phone number (FAQ "Jag har bytt telefonnummer…"), one change per session
/// at a time, kept in a <see cref="RecoveryRequest"/> whose id is the session row id. A number is only saved after an
/// SMS code sent to that very number came back; a new main number also needs proof first: a code to the current
/// number or the backup phone, or a backup code. The codes hang on a pre-session row no cookie points to, so the
/// verification code rules apply unchanged (hashed, 10 minutes, 5 checks, resend delays, per-number/IP limits).
/// </summary>
public sealed class PhoneChanges(
    IDbContextFactory<PortalDbContext> dbFactory,
    IDbContextFactory<VaultDbContext> vaultFactory,
    SmsCodes smsCodes,
    BackupCodes backupCodes,
    PhoneNumberRules phones,
    TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    public static PhoneChangeStep StepOf(RecoveryRequest? request) => request switch
    {
        null => PhoneChangeStep.None,
        { Purpose: RecoveryPurpose.AddBackupPhone } => PhoneChangeStep.BackupPhoneCode,
        { SmsVerifiedAt: null, BackupCodeUsedAt: null } => PhoneChangeStep.ProofCode,
        { NewPhone: null } => PhoneChangeStep.NewNumber,
        _ => PhoneChangeStep.NewNumberCode,
    };

    /// <summary>The session's change in progress, or null (none, expired, or another account's).</summary>
    public async Task<RecoveryRequest?> CurrentAsync(string sessionRowId, Guid accountId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.RecoveryRequests.AsNoTracking().SingleOrDefaultAsync(r => r.Id == sessionRowId && r.AccountId == accountId && r.ExpiresAt > now
            && (r.Purpose == RecoveryPurpose.AddBackupPhone || r.Purpose == RecoveryPurpose.ChangePhone), cancellationToken);
    }

    /// <summary>Checks the number and sends a code to it; the backup phone is saved when the code comes back.</summary>
    public async Task<PhoneOutcome> StartBackupPhoneAsync(string sessionRowId, Guid accountId, string? number, string clientIp, CancellationToken cancellationToken)
    {
        var (main, _) = await NumbersAsync(accountId, cancellationToken);
        var (problem, e164) = Read(number);
        if (problem is not null)
        {
            return problem.Value;
        }
        if (e164 == main)
        {
            return PhoneOutcome.SameAsMain;
        }
        return await StartAsync(sessionRowId, accountId, RecoveryPurpose.AddBackupPhone, e164!, r => r.NewPhone = e164, clientIp, cancellationToken);
    }

    /// <summary>Proof for a number change: a code to the current number, or to the backup phone.</summary>
    public async Task<PhoneOutcome> StartProofBySmsAsync(string sessionRowId, Guid accountId, bool toBackupPhone, string clientIp, CancellationToken cancellationToken)
    {
        var (main, backup) = await NumbersAsync(accountId, cancellationToken);
        var to = toBackupPhone ? backup : main;
        return to is null
            ? PhoneOutcome.NoRequest
            : await StartAsync(sessionRowId, accountId, RecoveryPurpose.ChangePhone, to, r => r.Phone = to, clientIp, cancellationToken);
    }

    /// <summary>Proof for a number change with a backup code, which is used up whether or not the change is finished.</summary>
    public async Task<PhoneOutcome> ProveWithBackupCodeAsync(string sessionRowId, Guid accountId, string? code, CancellationToken cancellationToken)
    {
        // Only proof is needed here, not the key the code unwraps: it is disposed at once.
        using (var key = await backupCodes.UseAsync(accountId, code, cancellationToken))
        {
            if (key is null)
            {
                return PhoneOutcome.WrongBackupCode;
            }
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RemoveAsync(db, sessionRowId, cancellationToken);
        db.RecoveryRequests.Add(new RecoveryRequest
        {
            Id = sessionRowId, Purpose = RecoveryPurpose.ChangePhone, AccountId = accountId, BackupCodeUsedAt = now, CreatedAt = now, ExpiresAt = now + Lifetime,
        });
        await db.SaveChangesAsync(cancellationToken);
        return PhoneOutcome.Proven;
    }

    /// <summary>After proof: the new number gets its own code.</summary>
    public async Task<PhoneOutcome> NewNumberAsync(RecoveryRequest request, string? number, string clientIp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (StepOf(request) is not (PhoneChangeStep.NewNumber or PhoneChangeStep.NewNumberCode))
        {
            return PhoneOutcome.NoRequest;
        }
        var (main, _) = await NumbersAsync(request.AccountId!.Value, cancellationToken);
        var (problem, e164) = Read(number);
        if (problem is not null)
        {
            return problem.Value;
        }
        if (e164 == main)
        {
            return PhoneOutcome.SameAsCurrent;
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (request.PreSessionId is { } old)
        {
            await db.SmsCodeRequests.Where(c => c.PreSessionId == old).ExecuteDeleteAsync(cancellationToken);
            await db.PreSessions.Where(p => p.Id == old).ExecuteDeleteAsync(cancellationToken);
        }
        var preSession = NewPreSession(request.AccountId!.Value, e164!, now);
        db.PreSessions.Add(preSession);
        await db.SaveChangesAsync(cancellationToken);
        await db.RecoveryRequests.Where(r => r.Id == request.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.NewPhone, e164).SetProperty(r => r.PreSessionId, preSession.Id), cancellationToken);
        var sent = await smsCodes.SendAsync(preSession, clientIp, cancellationToken);
        return sent.Outcome == SendOutcome.Sent ? PhoneOutcome.CodeSent : PhoneOutcome.TooManyCodes;
    }

    /// <summary>A new code for the step in progress (the resend delays and send limits apply).</summary>
    public async Task<PhoneOutcome> ResendAsync(RecoveryRequest request, string clientIp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var preSession = await CodePreSessionAsync(request, cancellationToken);
        if (preSession is null)
        {
            return PhoneOutcome.NoRequest;
        }
        var sent = await smsCodes.SendAsync(preSession, clientIp, cancellationToken);
        return sent.Outcome == SendOutcome.Sent ? PhoneOutcome.CodeSent : PhoneOutcome.TooManyCodes;
    }

    /// <summary>
    /// Checks the code of the step in progress: proof (the change may go on), or the new number's code (the number
    /// is saved and the change ends). After too many wrong codes the change ends and has to start again.
    /// </summary>
    public async Task<PhoneOutcome> CheckCodeAsync(RecoveryRequest request, string? code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var preSession = await CodePreSessionAsync(request, cancellationToken);
        if (preSession is null)
        {
            return PhoneOutcome.NoRequest;
        }
        var outcome = await smsCodes.CheckAsync(preSession, code, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        switch (outcome)
        {
            case CheckOutcome.Correct:
                break;
            case CheckOutcome.Wrong:
                return PhoneOutcome.WrongCode;
            case CheckOutcome.TooManyChecks:
                await RemoveAsync(db, request.Id, cancellationToken);
                return PhoneOutcome.TooManyChecks;
            default:
                return PhoneOutcome.CodeExpired;
        }
        var step = StepOf(request);
        if (step == PhoneChangeStep.ProofCode)
        {
            var now = time.GetUtcNow().UtcDateTime;
            await db.RecoveryRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.SmsVerifiedAt, now), cancellationToken);
            return PhoneOutcome.Proven;
        }
        await RemoveAsync(db, request.Id, cancellationToken);
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = await vault.Accounts.SingleAsync(a => a.Id == request.AccountId, cancellationToken);
        if (step == PhoneChangeStep.BackupPhoneCode)
        {
            account.BackupPhone = request.NewPhone;
        }
        else
        {
            account.Phone = request.NewPhone;
            // The backup phone that became the main number is no longer a second one.
            if (account.BackupPhone == account.Phone)
            {
                account.BackupPhone = null;
            }
        }
        await vault.SaveChangesAsync(cancellationToken);
        return step == PhoneChangeStep.BackupPhoneCode ? PhoneOutcome.BackupPhoneSaved : PhoneOutcome.PhoneSaved;
    }

    public async Task CancelAsync(string sessionRowId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RemoveAsync(db, sessionRowId, cancellationToken);
    }

    /// <summary>Removes the backup phone; false when there was none.</summary>
    public async Task<bool> RemoveBackupPhoneAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        return await vault.Accounts.Where(a => a.Id == accountId && a.BackupPhone != null)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.BackupPhone, (string?)null), cancellationToken) == 1;
    }

    public async Task<(string? Phone, string? BackupPhone)> NumbersAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var numbers = await vault.Accounts.Where(a => a.Id == accountId).Select(a => new { a.Phone, a.BackupPhone }).SingleAsync(cancellationToken);
        return (numbers.Phone, numbers.BackupPhone);
    }

    private (PhoneOutcome? Problem, string? E164) Read(string? number)
    {
        var check = phones.Check(number);
        return check.IsValid ? (null, check.E164)
            : check.Country is not null ? (PhoneOutcome.CountryNotAllowed, null)
            : (PhoneOutcome.NotAMobileNumber, null);
    }

    private async Task<PhoneOutcome> StartAsync(
        string sessionRowId, Guid accountId, RecoveryPurpose purpose, string smsTo, Action<RecoveryRequest> set, string clientIp, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RemoveAsync(db, sessionRowId, cancellationToken);
        var preSession = NewPreSession(accountId, smsTo, now);
        db.PreSessions.Add(preSession);
        var request = new RecoveryRequest { Id = sessionRowId, Purpose = purpose, AccountId = accountId, PreSessionId = preSession.Id, CreatedAt = now, ExpiresAt = now + Lifetime };
        set(request);
        db.RecoveryRequests.Add(request);
        await db.SaveChangesAsync(cancellationToken);
        var sent = await smsCodes.SendAsync(preSession, clientIp, cancellationToken);
        if (sent.Outcome != SendOutcome.Sent)
        {
            await RemoveAsync(db, sessionRowId, cancellationToken);
            return PhoneOutcome.TooManyCodes;
        }
        return PhoneOutcome.CodeSent;
    }

    /// <summary>The pre-session of the code the current step waits for (none while a new number is still to be entered).</summary>
    private async Task<PreSession?> CodePreSessionAsync(RecoveryRequest request, CancellationToken cancellationToken)
    {
        if (StepOf(request) is not (PhoneChangeStep.BackupPhoneCode or PhoneChangeStep.ProofCode or PhoneChangeStep.NewNumberCode) || request.PreSessionId is null)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.PreSessions.AsNoTracking().SingleOrDefaultAsync(p => p.Id == request.PreSessionId, cancellationToken);
    }

    private static PreSession NewPreSession(Guid accountId, string phone, DateTime now) =>
        new() { AccountId = accountId, LinkId = accountId, Phone = phone, CreatedAt = now, ExpiresAt = now + Lifetime };

    /// <summary>Ends the session's change, its pre-session and any expired changes (their code requests go with them).</summary>
    private async Task RemoveAsync(PortalDbContext db, string sessionRowId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var ending = db.RecoveryRequests.Where(r => r.Id == sessionRowId
            || (r.ExpiresAt <= now && (r.Purpose == RecoveryPurpose.AddBackupPhone || r.Purpose == RecoveryPurpose.ChangePhone)));
        var preSessions = await ending.Where(r => r.PreSessionId != null).Select(r => r.PreSessionId!.Value).ToListAsync(cancellationToken);
        await db.SmsCodeRequests.Where(c => preSessions.Contains(c.PreSessionId)).ExecuteDeleteAsync(cancellationToken);
        await db.PreSessions.Where(p => preSessions.Contains(p.Id)).ExecuteDeleteAsync(cancellationToken);
        await ending.ExecuteDeleteAsync(cancellationToken);
    }
}
