using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Vault.Accounts;

/// <summary>An organisation as configured (section <c>Organisations</c>, a list).</summary>
public sealed class OrganisationSettings
{
    [Required]
    public string Name { get; set; } = "";

    public List<string> Domains { get; set; } = [];

    public string Region { get; set; } = "se";

    public bool SendReceipts { get; set; } = true;
}

/// <summary>The configured organisations.</summary>
public sealed class OrganisationsOptions : IValidatableObject
{
    public const string Section = "Organisations";

    public List<OrganisationSettings> Items { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var organisation in Items)
        {
            if (string.IsNullOrWhiteSpace(organisation.Name))
            {
                yield return new ValidationResult("Organisations: every organisation needs a Name.", [nameof(Items)]);
            }
            foreach (var domain in organisation.Domains)
            {
                if (Uri.CheckHostName(domain) != UriHostNameType.Dns || !domain.Contains('.', StringComparison.Ordinal))
                {
                    yield return new ValidationResult($"Organisations: '{domain}' of {organisation.Name} is not a domain name.", [nameof(Items)]);
                }
            }
        }
        var duplicate = Items.SelectMany(o => o.Domains).GroupBy(d => d.ToLowerInvariant()).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            yield return new ValidationResult($"Organisations: domain '{duplicate.Key}' belongs to more than one organisation.", [nameof(Items)]);
        }
    }
}

/// <summary>
/// Which mail domains belong to an organisation (the gateway accepts flagged mail only from those), with a short
/// in-memory cache; at start the configured organisations are written to the database.
/// </summary>
public sealed class OrganisationDirectory(IDbContextFactory<VaultDbContext> dbFactory, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private HashSet<string> _domains = new(StringComparer.OrdinalIgnoreCase);
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;

    public async Task<bool> IsOrganisationAddressAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var at = address.LastIndexOf('@');
        if (at < 0)
        {
            return false;
        }
        if (time.GetUtcNow() - _loadedAt > TimeSpan.FromMinutes(1))
        {
            await _refresh.WaitAsync(cancellationToken);
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                _domains = new HashSet<string>(await db.OrganisationDomains.Select(d => d.Domain).ToListAsync(cancellationToken), StringComparer.OrdinalIgnoreCase);
                _loadedAt = time.GetUtcNow();
            }
            finally
            {
                _refresh.Release();
            }
        }
        return _domains.Contains(address[(at + 1)..]);
    }

    public void Dispose() => _refresh.Dispose();
}

/// <summary>Writes the configured organisations and their domains to the database at start.</summary>
internal sealed class OrganisationSeeder(IDbContextFactory<VaultDbContext> dbFactory, IOptions<OrganisationsOptions> options, ILogger<OrganisationSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Items.Count == 0)
        {
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // The gateway and the portal seed at the same start: the transaction takes the database's write lock first
        // (SQLite's BEGIN IMMEDIATE; an advisory lock on PostgreSQL), so the second one waits, then finds the rows
        // and changes nothing, instead of failing on the unique name.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7418238502)", cancellationToken);
        }
        foreach (var settings in options.Value.Items)
        {
            var organisation = await db.Organisations.Include(o => o.Domains).SingleOrDefaultAsync(o => o.Name == settings.Name, cancellationToken);
            if (organisation is null)
            {
                organisation = new Organisation { Name = settings.Name };
                db.Organisations.Add(organisation);
            }
            organisation.Region = settings.Region;
            organisation.SendReceipts = settings.SendReceipts;
            var wanted = settings.Domains.Select(d => d.ToLowerInvariant()).ToHashSet();
            organisation.Domains.RemoveAll(d => !wanted.Contains(d.Domain));
            foreach (var domain in wanted.Where(w => organisation.Domains.All(d => d.Domain != w)))
            {
                organisation.Domains.Add(new OrganisationDomain { Domain = domain });
            }
        }
        var changed = await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (changed > 0)
        {
            logger.LogInformation("Seeded {Count} organisation rows from configuration", changed);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
