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
            builder.AddInterceptors(new PortalSqlitePragmas());
        });
        services.AddHostedService<PortalDatabaseCreator>();
        return services;
    }
}

/// <summary>Per connection: deleted rows are overwritten (DESIGN.md property 7), writers wait for each other.</summary>
internal sealed class PortalSqlitePragmas : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    public override void ConnectionOpened(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(System.Data.Common.DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA secure_delete=ON; PRAGMA journal_mode=WAL; PRAGMA busy_timeout=60000;";
        command.ExecuteNonQuery();
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
        if (!await db.Database.EnsureCreatedAsync(cancellationToken))
        {
            // An existing portal.db from before a table was added (the two-factor tables): create what is missing.
            // Additive only; a change to an existing table still needs migrations.
            var script = db.Database.GenerateCreateScript()
                .Replace("CREATE TABLE \"", "CREATE TABLE IF NOT EXISTS \"", StringComparison.Ordinal)
                .Replace("CREATE UNIQUE INDEX \"", "CREATE UNIQUE INDEX IF NOT EXISTS \"", StringComparison.Ordinal)
                .Replace("CREATE INDEX \"", "CREATE INDEX IF NOT EXISTS \"", StringComparison.Ordinal);
            foreach (var statement in script.Split(";", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (statement.Length > 0 && !statement.StartsWith("--", StringComparison.Ordinal))
                {
                    await db.Database.ExecuteSqlRawAsync(statement, cancellationToken);
                }
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
