using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;

namespace SecureMailbox.Portal.Accounts.Security;

/// <summary>
/// The account's security log for its owner (sign-ins, failures, 2FA and phone changes, recoveries): kind, time,
/// device and network, never a secret, a code or a password. Kept 180 days; deleted with the account.
/// </summary>
public sealed class SecurityEvents(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(180);

    public async Task RecordAsync(Guid accountId, SecurityEventKind kind, HttpContext? context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.SecurityEvents.Add(new SecurityEvent
        {
            AccountId = accountId,
            At = now,
            Kind = kind,
            Device = context is null ? null : ClientDescription.Device(context),
            Network = context is null ? null : ClientDescription.Network(context),
        });
        await db.SaveChangesAsync(cancellationToken);
        await db.SecurityEvents.Where(e => e.AccountId == accountId && e.At < now - Retention).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>The newest events first.</summary>
    public async Task<IReadOnlyList<SecurityEvent>> ListAsync(Guid accountId, int max, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SecurityEvents.AsNoTracking().Where(e => e.AccountId == accountId)
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(max).ToListAsync(cancellationToken);
    }
}
