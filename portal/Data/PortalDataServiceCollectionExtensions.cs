using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Data;

public static class PortalDataServiceCollectionExtensions
{
    /// <summary>Its own migrations history table, as the portal's tables share the database with the vault's.</summary>
    internal const string PostgreSqlMigrationsHistoryTable = "__PortalMigrationsHistory";

    /// <summary>
    /// The portal's state database, migrated at start: <c>portal.db</c> in the data folder, or the shared PostgreSQL
    /// database when <c>Database:Provider</c> is <c>PostgreSql</c>.
    /// </summary>
    public static IServiceCollection AddPortalData(this IServiceCollection services)
    {
        services.AddDbContextFactory<PortalDbContext, PortalDbContextFactory>((provider, builder) =>
        {
            var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            if (database.IsPostgreSql)
            {
                builder.UseNpgsql(database.ConnectionString, npgsql => npgsql.CommandTimeout(60).MigrationsHistoryTable(PostgreSqlMigrationsHistoryTable));
                return;
            }
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

/// <summary>
/// EF migrations are provider-specific, and the PostgreSQL set cannot live in an assembly of its own (it would need
/// this project, which would need it): it is kept here under <see cref="PostgreSqlPortalDbContext"/>, which EF tells
/// apart from the SQLite set of <see cref="PortalDbContext"/>.
/// </summary>
internal sealed class PortalDbContextFactory(DbContextOptions<PortalDbContext> options, IOptions<DatabaseOptions> database) : IDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext() =>
        database.Value.IsPostgreSql ? new PostgreSqlPortalDbContext(options) : new PortalDbContext(options);
}

/// <summary>The portal context on PostgreSQL: the same model, with the PostgreSQL migrations (Data/PostgreSqlMigrations).</summary>
public sealed class PostgreSqlPortalDbContext(DbContextOptions<PortalDbContext> options) : PortalDbContext(options);

/// <summary>Per connection: deleted rows are overwritten (docs/rules.md property 7), writers wait for each other.</summary>
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
/// Migrates the portal database at start. A <c>portal.db</c> from before the portal had migrations (created with
/// EnsureCreated) is first completed to the Initial schema and recorded as at Initial, so its rows (two-factor
/// secrets, backup codes) survive the upgrade.
/// </summary>
internal sealed class PortalDatabaseCreator(IDbContextFactory<PortalDbContext> factory, ILogger<PortalDatabaseCreator> logger) : IHostedService
{
    internal const string InitialMigration = "20261125160913_Initial";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (!db.Database.IsSqlite())
        {
            // Only SQLite files can predate migrations.
            await db.Database.MigrateOneAtATimeAsync(cancellationToken);
            return;
        }
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        if (await ScalarAsync(connection, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='PreSessions'", cancellationToken) > 0
            && await ScalarAsync(connection, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='__EFMigrationsHistory'", cancellationToken) == 0)
        {
            logger.LogInformation("Bringing a portal database from before migrations under migrations");
            await using var initial = new PortalDbContext(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite(connection).Options);
            var migrator = initial.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
            // The Initial script with "IF NOT EXISTS": adds tables that a very old file lacks, keeps the rest.
            var script = migrator.GenerateScript(fromMigration: "0", toMigration: InitialMigration)
                .Replace("CREATE TABLE \"", "CREATE TABLE IF NOT EXISTS \"", StringComparison.Ordinal)
                .Replace("CREATE UNIQUE INDEX \"", "CREATE UNIQUE INDEX IF NOT EXISTS \"", StringComparison.Ordinal)
                .Replace("CREATE INDEX \"", "CREATE INDEX IF NOT EXISTS \"", StringComparison.Ordinal);
            foreach (var statement in script.Split(";", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var sql = string.Join('\n', statement.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal)));
                if (sql.Trim().Length > 0 && !sql.Contains("BEGIN TRANSACTION", StringComparison.Ordinal) && !sql.Trim().Equals("COMMIT", StringComparison.Ordinal))
                {
                    await initial.Database.ExecuteSqlRawAsync(sql, cancellationToken);
                }
            }
        }
        await db.Database.MigrateAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task<long> ScalarAsync(System.Data.Common.DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
