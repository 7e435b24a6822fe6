using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;

namespace SecureMailbox.Portal.Security;

/// <summary>Counted events in a sliding window, kept in the portal database so several instances agree.</summary>
public sealed class RateLimits(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public async Task<int> CountAsync(string key, TimeSpan window, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow().UtcDateTime - window;
        var stored = Stored(key);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.RateEvents.CountAsync(e => e.Key == stored && e.At > since, cancellationToken);
    }

    public async Task AddAsync(CancellationToken cancellationToken, params string[] keys)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var key in keys)
        {
            db.RateEvents.Add(new RateEvent { Key = Stored(key), At = now });
        }
        // Old events are dropped as new ones come (a day is the longest window used).
        await db.RateEvents.Where(e => e.At < now.AddDays(-1)).ExecuteDeleteAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task ClearAsync(string key, CancellationToken cancellationToken)
    {
        var stored = Stored(key);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.RateEvents.Where(e => e.Key == stored).ExecuteDeleteAsync(cancellationToken);
    }

    // Keys hold what people type (an address at sign-in); the column holds 128 characters, which PostgreSQL enforces,
    // so a longer key is stored as its prefix and a hash.
    internal static string Stored(string key) =>
        key.Length <= 128 ? key
            : string.Concat(key.AsSpan(0, 60), "#", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))));

    /// <summary>The client's address as a key part (the connection's address: forwarded headers are not trusted here).</summary>
    public static string ClientIp(HttpContext context) => context?.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
