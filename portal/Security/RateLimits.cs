using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Verification;

namespace SecureMailbox.Portal.Security;

/// <summary>A named limit: at most <see cref="Limit"/> events per key within <see cref="Window"/>.</summary>
/// <param name="Name">The key prefix (<c>signin-account</c>); a counter's key is <c>Name:subject</c>.</param>
public sealed record RateLimitPolicy(string Name, int Limit, TimeSpan Window)
{
    public string KeyFor(string subject) => Name + ":" + subject;
}

/// <summary>
/// Every limit shared between instances (docs/rules.md A4, A16, P2; docs/rules.md property 9), by name. The per-code SMS
/// checks and sends, the second-factor attempts of a pending sign-in and the attempts of a recovery request are
/// counters on their own rows, changed with the same kind of conditional update (<see cref="SmsCodes"/>,
/// <c>PendingSignIns</c>, <c>RecoveryRequests</c>).
/// </summary>
public sealed class RateLimitPolicies(IOptions<SignInOptions> signIn, IOptions<VerificationOptions> verification)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    public RateLimitPolicy SignInFailuresPerAccount => new("signin-account", signIn.Value.MaxFailuresPerAccountPerHour, Hour);

    public RateLimitPolicy SignInFailuresPerIp => new("signin-ip", signIn.Value.MaxFailuresPerIpPerHour, Hour);

    public RateLimitPolicy SmsSendsPerPhone => new("sms-phone", verification.Value.MaxSendsPerPhonePerHour, Hour);

    public RateLimitPolicy SmsSendsPerIp => new("sms-ip", verification.Value.MaxSendsPerIpPerHour, Hour);

    public RateLimitPolicy SmsSendsPerLink => new("sms-link", verification.Value.MaxSendsPerLinkPerDay, Day);

    public static RateLimitPolicy ForgotPasswordPerAddress { get; } = new("forgot-address", 5, Hour);

    public static RateLimitPolicy ForgotPasswordPerIp { get; } = new("forgot-ip", 20, Hour);

    public static RateLimitPolicy RegistrationPerAddress { get; } = new("register-email", 3, Day);


    public static RateLimitPolicy RegistrationPerIp { get; } = new("register-ip", 10, Hour);
}

/// <summary>
/// Counters in the portal database, so that several instances agree. Each check-and-count is one conditional
/// <c>UPDATE … WHERE Count &lt; limit</c> (or one <c>INSERT … ON CONFLICT DO NOTHING</c> for a new key): the database
/// serialises writers of a row on SQLite and PostgreSQL alike, so parallel requests can never take more than the limit.
/// A window opens with a key's first event and closes <see cref="RateLimitPolicy.Window"/> later.
/// </summary>
public sealed class RateLimits(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    /// <summary>Counts one event if the key is under its limit; false (nothing counted) when it is not.</summary>
    public async Task<bool> TryTakeAsync(RateLimitPolicy policy, string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var key = Stored(policy.KeyFor(subject));
        var now = time.GetUtcNow().UtcDateTime;
        var windowOpenedAfter = now - policy.Window;
        var limit = policy.Limit;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            // One statement: an expired window restarts at 1, a live one counts up only below the limit.
            var updated = await db.RateCounters
                .Where(c => c.Key == key && (c.WindowStart <= windowOpenedAfter || c.Count < limit))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Count, c => c.WindowStart <= windowOpenedAfter ? 1 : c.Count + 1)
                    .SetProperty(c => c.WindowStart, c => c.WindowStart <= windowOpenedAfter ? now : c.WindowStart), cancellationToken);
            if (updated == 1)
            {
                return true;
            }
            if (limit < 1)
            {
                return false;
            }
            // No row, or a full one: a new key starts at 1 unless another request created it meanwhile. Counters
            // older than the longest window (a day) go when new ones come.
            var inserted = await db.Database.ExecuteSqlInterpolatedAsync(
                $"""INSERT INTO "RateCounters" ("Key", "WindowStart", "Count") VALUES ({key}, {now}, 1) ON CONFLICT ("Key") DO NOTHING""",
                cancellationToken);
            if (inserted == 1)
            {
                await db.RateCounters.Where(c => c.WindowStart < now.AddDays(-2)).ExecuteDeleteAsync(cancellationToken);
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Counts one event under every policy, or none: when one refuses, those already taken are given back.
    /// </summary>
    public async Task<bool> TryTakeAllAsync(CancellationToken cancellationToken, params (RateLimitPolicy Policy, string Subject)[] limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        for (var i = 0; i < limits.Length; i++)
        {
            if (!await TryTakeAsync(limits[i].Policy, limits[i].Subject, cancellationToken))
            {
                for (var j = 0; j < i; j++)
                {
                    await GiveBackAsync(limits[j].Policy, limits[j].Subject, cancellationToken);
                }
                return false;
            }
        }
        return true;
    }

    /// <summary>Returns one taken event (the attempt turned out not to count, e.g. a right password).</summary>
    public async Task GiveBackAsync(RateLimitPolicy policy, string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var key = Stored(policy.KeyFor(subject));
        var windowOpenedAfter = time.GetUtcNow().UtcDateTime - policy.Window;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.RateCounters.Where(c => c.Key == key && c.Count > 0 && c.WindowStart > windowOpenedAfter)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Count, c => c.Count - 1), cancellationToken);
    }

    /// <summary>Whether the key has used up its limit in the current window (counts nothing).</summary>
    public async Task<bool> IsExhaustedAsync(RateLimitPolicy policy, string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var key = Stored(policy.KeyFor(subject));
        var windowOpenedAfter = time.GetUtcNow().UtcDateTime - policy.Window;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.RateCounters.AnyAsync(c => c.Key == key && c.WindowStart > windowOpenedAfter && c.Count >= policy.Limit, cancellationToken);
    }

    public async Task ClearAsync(RateLimitPolicy policy, string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var key = Stored(policy.KeyFor(subject));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.RateCounters.Where(c => c.Key == key).ExecuteDeleteAsync(cancellationToken);
    }

    // Keys hold what people type (an address at sign-in); the column holds 128 characters, which PostgreSQL enforces,
    // so a longer key is stored as its prefix and a hash.
    internal static string Stored(string key) =>
        key.Length <= 128 ? key
            : string.Concat(key.AsSpan(0, 60), "#", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));

    /// <summary>The client's address as a key part (the connection's address: forwarded headers are not trusted here).</summary>
    public static string ClientIp(HttpContext context) => context?.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
