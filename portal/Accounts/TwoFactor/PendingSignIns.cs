using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Portal.Accounts.TwoFactor;

/// <summary>
/// Between a correct password and a correct second factor: the account key wrapped under a random key that lives
/// only in the <c>2fa</c> cookie, valid 5 minutes and 5 attempts. It is not a session: no page resolves it except
/// the second step, which turns it into a session.
/// </summary>
public sealed class PendingSignIns(IDbContextFactory<PortalDbContext> dbFactory, CookiePolicy cookies, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public const int MaxAttempts = 5;

    private string CookieName => cookies.Prefix + "2fa";

    public async Task StartAsync(HttpContext context, Guid accountId, AgeIdentity key, string returnUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var secret = CookieSecret.New();
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.PendingSignIns.Where(p => p.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        db.PendingSignIns.Add(new PendingSignIn
        {
            Id = secret.RowId,
            AccountId = accountId,
            WrappedKey = secret.Wrap(key, "pending:" + secret.RowId),
            ReturnUrl = returnUrl,
            ExpiresAt = now + Lifetime,
        });
        await db.SaveChangesAsync(cancellationToken);
        context.Response.Cookies.Append(CookieName, secret.ToString(), cookies.Options(context, sameSite: SameSiteMode.Strict));
    }

    /// <summary>The live pending sign-in of this request, or null.</summary>
    public async Task<PendingSignIn?> FindAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var secret = CookieSecret.Parse(context.Request.Cookies[CookieName]);
        if (secret is null)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.PendingSignIns.AsNoTracking().SingleOrDefaultAsync(p => p.Id == secret.RowId, cancellationToken);
        return row is null || row.ExpiresAt <= time.GetUtcNow().UtcDateTime || row.Attempts >= MaxAttempts ? null : row;
    }

    /// <summary>
    /// Takes one attempt before a code is checked, in one conditional update so that parallel requests cannot check
    /// more than <see cref="MaxAttempts"/> codes; false when none is left.
    /// </summary>
    public async Task<bool> TryAttemptAsync(PendingSignIn pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.PendingSignIns.Where(p => p.Id == pending.Id && p.Attempts < MaxAttempts && p.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Attempts, p => p.Attempts + 1), cancellationToken) == 1;
    }

    /// <summary>After a wrong code: false when the pending sign-in is used up.</summary>
    public async Task<bool> HasAttemptsLeftAsync(PendingSignIn pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.PendingSignIns.AnyAsync(p => p.Id == pending.Id && p.Attempts < MaxAttempts, cancellationToken);
    }

    /// <summary>Ends the pending sign-in and returns its key (null if the cookie does not open it).</summary>
    public async Task<AgeIdentity?> CompleteAsync(HttpContext context, PendingSignIn pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(pending);
        var secret = CookieSecret.Parse(context.Request.Cookies[CookieName]);
        await EndAsync(context, cancellationToken);
        return secret is null || secret.RowId != pending.Id ? null : secret.TryUnwrap(pending.WrappedKey, "pending:" + pending.Id);
    }

    public async Task EndAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var secret = CookieSecret.Parse(context.Request.Cookies[CookieName]);
        if (secret is not null)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.PendingSignIns.Where(p => p.Id == secret.RowId).ExecuteDeleteAsync(cancellationToken);
        }
        context.Response.Cookies.Delete(CookieName, cookies.Options(context, sameSite: SameSiteMode.Strict));
    }
}
