using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Portal.Sessions;

/// <summary>A signed-in request: the account and its private key, unwrapped with the cookie's key for this request only.</summary>
public sealed class SignedInSession(string rowId, Guid accountId, AgeIdentity key) : IDisposable
{
    public string RowId { get; } = rowId;

    public Guid AccountId { get; } = accountId;

    public AgeIdentity Key { get; } = key;

    public void Dispose() => Key.Dispose();
}

/// <summary>
/// Signed-in sessions (docs/rules.md property 6): at sign-in the account key is re-wrapped under a random key that lives
/// only in the session cookie; the row keeps the wrapped blob. Idle and absolute timeouts, sign-out, sign-out everywhere.
/// </summary>
public sealed class SessionStore(
    IDbContextFactory<PortalDbContext> dbFactory,
    CookiePolicy cookies,
    IOptions<PortalSessionOptions> options,
    TimeProvider time)
{
    public const string HttpContextItem = "smbx.session";

    /// <summary>Starts a new session (always a new id) and sets its cookie.</summary>
    public async Task StartAsync(HttpContext context, Guid accountId, AgeIdentity key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await EndAsync(context, cancellationToken, deleteCookie: false);
        var secret = CookieSecret.New();
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Ended sessions go as new ones start (their blobs are useless without the cookies, but need not stay).
        var idleSince = now - options.Value.IdleTimeout;
        await db.Sessions.Where(s => s.AbsoluteExpiresAt <= now || s.LastSeenAt <= idleSince).ExecuteDeleteAsync(cancellationToken);
        db.Sessions.Add(new PortalSession
        {
            Id = secret.RowId,
            AccountId = accountId,
            WrappedKey = secret.Wrap(key, "session:" + secret.RowId),
            CreatedAt = now,
            LastSeenAt = now,
            AbsoluteExpiresAt = now + options.Value.AbsoluteTimeout,
            Device = Accounts.Security.ClientDescription.Device(context),
            Network = Accounts.Security.ClientDescription.Network(context),
        });
        await db.SaveChangesAsync(cancellationToken);
        context.Response.Cookies.Append(cookies.SessionCookie, secret.ToString(), cookies.Options(context, sameSite: SameSiteMode.Lax));
    }

    /// <summary>The request's session, or null (no cookie, unknown, idle or expired: the row is removed).</summary>
    public async Task<SignedInSession?> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(HttpContextItem, out var cached))
        {
            return cached as SignedInSession;
        }
        var secret = CookieSecret.Parse(context.Request.Cookies[cookies.SessionCookie]);
        if (secret is null)
        {
            return null;
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.Sessions.FindAsync([secret.RowId], cancellationToken);
        if (row is null)
        {
            return null;
        }
        if (now >= row.AbsoluteExpiresAt || now - row.LastSeenAt >= options.Value.IdleTimeout)
        {
            db.Sessions.Remove(row);
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        var key = secret.TryUnwrap(row.WrappedKey, "session:" + row.Id);
        if (key is null)
        {
            return null;
        }
        row.LastSeenAt = now;
        await db.SaveChangesAsync(cancellationToken);
        var session = new SignedInSession(row.Id, row.AccountId, key);
        context.Items[HttpContextItem] = session;
        context.Response.RegisterForDispose(session);
        return session;
    }

    /// <summary>Ends this request's session (row and cookie).</summary>
    public async Task EndAsync(HttpContext context, CancellationToken cancellationToken, bool deleteCookie = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        var secret = CookieSecret.Parse(context.Request.Cookies[cookies.SessionCookie]);
        if (secret is not null)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.Sessions.Where(s => s.Id == secret.RowId).ExecuteDeleteAsync(cancellationToken);
        }
        context.Items.Remove(HttpContextItem);
        if (deleteCookie)
        {
            context.Response.Cookies.Delete(cookies.SessionCookie, cookies.Options(context, sameSite: SameSiteMode.Lax));
        }
    }

    /// <summary>The account's live sessions, newest first (for the Security page).</summary>
    public async Task<IReadOnlyList<PortalSession>> ListAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var idleSince = now - options.Value.IdleTimeout;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Sessions.AsNoTracking()
            .Where(s => s.AccountId == accountId && s.AbsoluteExpiresAt > now && s.LastSeenAt > idleSince)
            .OrderByDescending(s => s.LastSeenAt).ToListAsync(cancellationToken);
    }

    /// <summary>Ends one session of the account (from the Security page); false if it is not the account's.</summary>
    public async Task<bool> EndOneAsync(Guid accountId, string rowId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Sessions.Where(s => s.Id == rowId && s.AccountId == accountId).ExecuteDeleteAsync(cancellationToken) == 1;
    }

    /// <summary>Ends every session of the account except one (after a password change or reset).</summary>
    public async Task EndOthersAsync(Guid accountId, string keepRowId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Sessions.Where(s => s.AccountId == accountId && s.Id != keepRowId).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Whether password and second factor were re-entered in this session within <see cref="ReauthenticationWindow"/>.</summary>
    public async Task<bool> IsRecentlyAuthenticatedAsync(SignedInSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var since = time.GetUtcNow().UtcDateTime - ReauthenticationWindow;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Sessions.AnyAsync(s => s.Id == session.RowId && s.ReauthenticatedAt != null && s.ReauthenticatedAt > since, cancellationToken);
    }

    public async Task MarkReauthenticatedAsync(SignedInSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Sessions.Where(s => s.Id == session.RowId).ExecuteUpdateAsync(u => u.SetProperty(s => s.ReauthenticatedAt, now), cancellationToken);
    }

    /// <summary>How long a re-authentication lets the user change password, phone, 2FA or delete the account.</summary>
    public static readonly TimeSpan ReauthenticationWindow = TimeSpan.FromMinutes(10);

    /// <summary>Ends every session of the account.</summary>
    public async Task EndAllAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Sessions.Where(s => s.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
    }
}
