using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Portal.Verification;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Portal.Accounts.Recovery;

/// <summary>
/// The signed-out recoveries (forgot password, lost authenticator) in progress: a <see cref="RecoveryRequest"/> row
/// found by the SHA-256 of its <c>recovery</c> cookie's id (30 minutes, SameSite Strict, 5 wrong answers). A key
/// unwrapped on the way is kept only wrapped under the cookie's key, so the row alone opens nothing. SMS codes hang
/// on a pre-session row no cookie points to, so the verification code rules apply unchanged.
/// </summary>
public sealed class RecoveryRequests(
    IDbContextFactory<PortalDbContext> dbFactory,
    SmsCodes smsCodes,
    SignInService signIn,
    Security.SecurityEvents events,
    CookiePolicy cookies,
    TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    public const int MaxAttempts = 5;

    private string CookieName => cookies.Prefix + "recovery";

    /// <summary>A new request (the cookie's previous one ends); <paramref name="key"/> is kept wrapped under the new cookie.</summary>
    public async Task<RecoveryRequest> StartAsync(HttpContext context, RecoveryPurpose purpose, Guid? accountId, AgeIdentity? key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await EndAsync(context, cancellationToken);
        var secret = CookieSecret.New();
        var now = time.GetUtcNow().UtcDateTime;
        var request = new RecoveryRequest
        {
            Id = secret.RowId,
            Purpose = purpose,
            AccountId = accountId,
            WrappedKey = key is null ? null : Wrap(key, secret),
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.RecoveryRequests.Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        db.RecoveryRequests.Add(request);
        await db.SaveChangesAsync(cancellationToken);
        context.Response.Cookies.Append(CookieName, secret.ToString(), cookies.Options(context, sameSite: SameSiteMode.Strict));
        return request;
    }

    /// <summary>The live request of this cookie for <paramref name="purpose"/>, or null (none, expired, used up).</summary>
    public async Task<RecoveryRequest?> FindAsync(HttpContext context, RecoveryPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var secret = CookieSecret.Parse(context.Request.Cookies[CookieName]);
        if (secret is null)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.RecoveryRequests.AsNoTracking().SingleOrDefaultAsync(r => r.Id == secret.RowId, cancellationToken);
        return row is null || row.Purpose != purpose || row.ExpiresAt <= time.GetUtcNow().UtcDateTime || row.Attempts >= MaxAttempts ? null : row;
    }

    /// <summary>
    /// Sends an SMS code for the request to <paramref name="phone"/> (null: nothing is sent, the caller answers the
    /// same). A new number gets a new pre-session, so its code and send limits start over.
    /// </summary>
    public async Task SendCodeAsync(RecoveryRequest request, string? phone, string clientIp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.AccountId is not { } accountId || phone is null)
        {
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var preSession = request.PreSessionId is { } id && request.Phone == phone
            ? await db.PreSessions.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken)
            : null;
        if (preSession is null)
        {
            preSession = new PreSession { AccountId = accountId, LinkId = accountId, Phone = phone, CreatedAt = request.CreatedAt, ExpiresAt = request.ExpiresAt };
            db.PreSessions.Add(preSession);
            if (request.PreSessionId is { } old)
            {
                await db.PreSessions.Where(p => p.Id == old).ExecuteDeleteAsync(cancellationToken);
            }
            await db.SaveChangesAsync(cancellationToken);
            await db.RecoveryRequests.Where(r => r.Id == request.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.PreSessionId, preSession.Id).SetProperty(r => r.Phone, phone), cancellationToken);
            request.PreSessionId = preSession.Id;
            request.Phone = phone;
        }
        // After the response: an unknown address sends nothing, and the answer must not wait longer for a known one.
        await smsCodes.SendAsync(preSession, clientIp, cancellationToken, afterResponse: true);
    }

    /// <summary>Checks the SMS code; a correct one marks the request verified. Unknown addresses never match.</summary>
    public async Task<CheckOutcome> CheckCodeAsync(RecoveryRequest request, string? code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var preSession = request.PreSessionId is { } id ? await db.PreSessions.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken) : null;
        if (preSession is null)
        {
            return CheckOutcome.Wrong;
        }
        var outcome = await smsCodes.CheckAsync(preSession, code, cancellationToken);
        if (outcome == CheckOutcome.Correct)
        {
            var now = time.GetUtcNow().UtcDateTime;
            await db.RecoveryRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.SmsVerifiedAt, now), cancellationToken);
            request.SmsVerifiedAt = now;
        }
        return outcome;
    }

    /// <summary>
    /// Counts a wrong code like a wrong second factor at sign-in (the per-account and per-IP throttling, the security
    /// log) and against the request's 5 attempts; false (and the request ended) when it is used up.
    /// </summary>
    public async Task<bool> FailAsync(HttpContext context, RecoveryRequest request, string email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        signIn.SecondFactorFailed(RateLimits.ClientIp(context));
        if (request.AccountId is { } accountId)
        {
            await events.RecordAsync(accountId, SecurityEventKind.SecondFactorFailed, context, cancellationToken);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.RecoveryRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Attempts, r => r.Attempts + 1), cancellationToken);
        request.Attempts++;
        if (request.Attempts < MaxAttempts)
        {
            return true;
        }
        await EndAsync(context, cancellationToken);
        return false;
    }

    public async Task MarkSecondFactorAsync(RecoveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.RecoveryRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.SecondFactorVerifiedAt, now), cancellationToken);
        request.SecondFactorVerifiedAt = now;
    }

    /// <summary>Keeps the key a backup code unwrapped, wrapped under this request's cookie, until the new password.</summary>
    public async Task KeepBackupCodeKeyAsync(HttpContext context, RecoveryRequest request, AgeIdentity key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var secret = Secret(context, request) ?? throw new InvalidOperationException("The recovery cookie does not match its request.");
        var wrapped = Wrap(key, secret);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.RecoveryRequests.Where(r => r.Id == request.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.WrappedKey, wrapped).SetProperty(r => r.BackupCodeUsedAt, now), cancellationToken);
        request.WrappedKey = wrapped;
        request.BackupCodeUsedAt = now;
    }

    /// <summary>The kept key, unwrapped with the cookie's key (null when there is none or the cookie does not open it).</summary>
    public AgeIdentity? UnwrapKey(HttpContext context, RecoveryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Secret(context, request)?.TryUnwrap(request.WrappedKey, "recovery:" + request.Id);
    }

    /// <summary>Ends this cookie's request (row, its code's pre-session, cookie).</summary>
    public async Task EndAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var secret = CookieSecret.Parse(context.Request.Cookies[CookieName]);
        if (secret is not null)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var preSessionId = await db.RecoveryRequests.Where(r => r.Id == secret.RowId).Select(r => r.PreSessionId).SingleOrDefaultAsync(cancellationToken);
            await db.RecoveryRequests.Where(r => r.Id == secret.RowId).ExecuteDeleteAsync(cancellationToken);
            if (preSessionId is { } id)
            {
                await db.PreSessions.Where(p => p.Id == id).ExecuteDeleteAsync(cancellationToken);
            }
        }
        context.Response.Cookies.Delete(CookieName, cookies.Options(context, sameSite: SameSiteMode.Strict));
    }

    /// <summary>Ends every recovery of the account (after its key changed: their wrapped keys are of no use any more).</summary>
    public async Task EndAllAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var preSessionIds = await db.RecoveryRequests.Where(r => r.AccountId == accountId && r.PreSessionId != null)
            .Select(r => r.PreSessionId!.Value).ToListAsync(cancellationToken);
        await db.RecoveryRequests.Where(r => r.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await db.PreSessions.Where(p => preSessionIds.Contains(p.Id)).ExecuteDeleteAsync(cancellationToken);
    }

    private CookieSecret? Secret(HttpContext context, RecoveryRequest request)
    {
        var secret = CookieSecret.Parse(context.Request.Cookies[CookieName]);
        return secret is not null && secret.RowId == request.Id ? secret : null;
    }

    private static byte[] Wrap(AgeIdentity key, CookieSecret secret) => secret.Wrap(key, "recovery:" + secret.RowId);
}
