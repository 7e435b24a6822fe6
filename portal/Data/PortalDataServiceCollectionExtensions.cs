using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;

namespace SecureMailbox.Portal.Data;

public static class PortalDataServiceCollectionExtensions
{
    /// <summary>The portal's state database: <c>portal.db</c> in the data folder, created at start.</summary>
    public static IServiceCollection AddPortalData(this IServiceCollection services)
    {
        services.AddDbContextFactory<PortalDbContext>((provider, builder) =>
        {
            var vault = provider.GetRequiredService<IOptions<VaultOptions>>().Value;
            Directory.CreateDirectory(vault.DataPath);
            var connection = new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(vault.DataPath, "portal.db"),
                DefaultTimeout = 60,
                Pooling = true,
            }.ToString();
            builder.UseSqlite(connection);
        });
        services.AddHostedService<PortalDatabaseCreator>();
        return services;
    }
}

/// <summary>
/// Creates the portal's tables at start. The portal database holds only short-lived state, so until its schema
/// changes it is created rather than migrated (a schema change adds migrations like the vault's).
/// </summary>
internal sealed class PortalDatabaseCreator(IDbContextFactory<PortalDbContext> factory) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.EnsureCreatedAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON;", cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
