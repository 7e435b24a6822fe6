using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Links;

/// <summary>
/// Pre-sessions: what a used notification link becomes. The link key is re-wrapped under a random key that lives
/// only in the pre-session cookie, so the portal database alone never holds it in clear.
/// </summary>
public sealed class PreSessionStore(
    IDbContextFactory<PortalDbContext> dbFactory,
    CookiePolicy cookies,
    IOptions<PortalSessionOptions> options,
    TimeProvider time)
{
    public async Task<PreSession> CreateAsync(HttpContext context, NotificationLink link, AgeIdentity? linkKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(link);
        var secret = CookieSecret.New();
        var now = time.GetUtcNow().UtcDateTime;
        var preSession = new PreSession
        {
            Id = RowId(secret),
            LinkId = link.Id,
            AccountId = link.AccountId,
            MessageId = link.MessageId,
            Phone = link.Phone,
            CreatedAt = now,
            ExpiresAt = now + options.Value.PreSessionLifetime,
        };
        if (linkKey is not null)
        {
            preSession.WrappedLinkKey = secret.Wrap(linkKey, "pre:" + preSession.Id.ToString("N"));
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Expired pre-sessions (and their code requests) go as new ones start.
        var expired = db.PreSessions.Where(p => p.ExpiresAt <= now).Select(p => p.Id);
        await db.SmsCodeRequests.Where(r => expired.Contains(r.PreSessionId)).ExecuteDeleteAsync(cancellationToken);
        await db.PreSessions.Where(p => p.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        db.PreSessions.Add(preSession);
        await db.SaveChangesAsync(cancellationToken);
        context.Response.Cookies.Append(cookies.PreSessionCookie, secret.ToString(), cookies.Options(context));
        return preSession;
    }

    /// <summary>The request's live pre-session, or null.</summary>
    public async Task<PreSession?> FindAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var secret = Secret(context);
        if (secret is null)
        {
            return null;
        }
        var id = RowId(secret);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.PreSessions.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        return row is null || row.ExpiresAt <= time.GetUtcNow().UtcDateTime ? null : row;
    }

    /// <summary>Unwraps the link key with the cookie's key.</summary>
    public AgeIdentity? UnlockLinkKey(HttpContext context, PreSession preSession)
    {
        ArgumentNullException.ThrowIfNull(preSession);
        return Secret(context)?.TryUnwrap(preSession.WrappedLinkKey, "pre:" + preSession.Id.ToString("N"));
    }

    public async Task MarkVerifiedAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        await db.PreSessions.Where(p => p.Id == id).ExecuteUpdateAsync(s => s.SetProperty(p => p.VerifiedAt, now), cancellationToken);
    }

    /// <summary>Removes the pre-session (row and cookie) once the link's key has found its account.</summary>
    public async Task EndAsync(HttpContext context, Guid id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.SmsCodeRequests.Where(r => r.PreSessionId == id).ExecuteDeleteAsync(cancellationToken);
        await db.PreSessions.Where(p => p.Id == id).ExecuteDeleteAsync(cancellationToken);
        context.Response.Cookies.Delete(cookies.PreSessionCookie, cookies.Options(context));
    }

    /// <summary>The row id: a hash of the cookie's id part, so the database alone cannot rebuild a cookie.</summary>
    private static Guid RowId(CookieSecret secret) => new(System.Security.Cryptography.SHA256.HashData(secret.Id).AsSpan(0, 16));

    private CookieSecret? Secret(HttpContext context) => CookieSecret.Parse(context.Request.Cookies[cookies.PreSessionCookie]);
}
