using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Vault.Data;

/// <summary>Registers the vault database: SQLite by default, PostgreSQL when configured, migrated at start.</summary>
public static class DatabaseServiceCollectionExtensions
{
    /// <summary>The assembly that holds the PostgreSQL migrations of <see cref="VaultDbContext"/>.</summary>
    public const string PostgreSqlMigrationsAssembly = "SecureMailbox.Vault.PostgreSql";

    /// <summary>Adds <see cref="VaultDbContext"/> as a factory, and a hosted service that applies migrations at start.</summary>
    public static IServiceCollection AddVaultDatabase(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddDbContextFactory<VaultDbContext>((provider, builder) =>
        {
            var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            if (database.IsPostgreSql)
            {
                builder.UseNpgsql(database.ConnectionString, npgsql => npgsql.CommandTimeout(60).MigrationsAssembly(PostgreSqlMigrationsAssembly));
                return;
            }
            var options = provider.GetRequiredService<IOptions<VaultOptions>>().Value;
            builder.UseSqlite(SqliteConnectionString(options), sqlite => sqlite.CommandTimeout(60));
            builder.AddInterceptors(new SqlitePragmas());
        });
        services.AddHostedService<DatabaseMigrator>();
        return services;
    }

    /// <summary>The SQLite connection string: the configured one, or a file in the data folder.</summary>
    public static string SqliteConnectionString(VaultOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return options.ConnectionString;
        }
        Directory.CreateDirectory(options.DataPath);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataPath, "securemailbox.db"),
            DefaultTimeout = 60,
            Pooling = true,
        }.ToString();
    }

    /// <summary>
    /// Per-connection settings: deleted content is overwritten (docs/rules.md property 7), every commit is
    /// fsync'd (the spool entry is deleted only after the queue row is durable), and writers wait for each other.
    /// </summary>
    private sealed class SqlitePragmas : DbConnectionInterceptor
    {
        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        private static void Apply(DbConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA secure_delete=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=60000; PRAGMA foreign_keys=ON;";
            command.ExecuteNonQuery();
        }
    }
}

/// <summary>Applies pending migrations before the services start working (EF Core serialises concurrent migrators).</summary>
internal sealed class DatabaseMigrator(IDbContextFactory<VaultDbContext> factory, ILogger<DatabaseMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.EnsureHistoryTableAsync(cancellationToken);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            logger.LogInformation("Applying {Count} database migrations", pending.Count);
            await db.Database.MigrateOneAtATimeAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
