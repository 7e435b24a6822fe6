using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>
/// Per-user limit on <c>/addin/api/phones</c>, counted in addresses (a token bucket of
/// <see cref="AddinApiOptions.AddressesPerMinute"/> refilled each minute). Users are told apart by tenant and object
/// ID from the validated token. The limit is per portal instance, like ASP.NET Core's rate limiter.
/// </summary>
public sealed class AddinLookupRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public AddinLookupRateLimiter(IOptions<AddinApiOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var perMinute = options.Value.AddressesPerMinute;
        _limiter = PartitionedRateLimiter.Create<string, string>(user => RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = perMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public bool TryAcquire(ClaimsPrincipal user, int addresses, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(user);
        var key = $"{user.GetTenantId()}/{user.GetObjectId() ?? user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity?.Name}";
        using var lease = _limiter.AttemptAcquire(key, addresses);
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
