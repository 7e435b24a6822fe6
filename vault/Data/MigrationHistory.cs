using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace SecureMailbox.Vault.Data;

/// <summary>Start-up help shared by the vault's and the portal's migrators.</summary>
public static class MigrationHistory
{
    /// <summary>
    /// On PostgreSQL: creates the context's migrations-history table if it is missing, before anything reads it.
    /// EF Core reads that table before creating it, and PostgreSQL answers the read of a missing table with an error
    /// that EF Core logs as a failed command on every first start; with the table in place that error never happens.
    /// The gateway and the portal start together, so the creation runs under a transaction-scoped advisory lock.
    /// </summary>
    /// <summary>
    /// Applies pending migrations. On PostgreSQL the gateway and the portal (and every further instance) may start at
    /// the same moment: the whole migration runs under a session-level advisory lock on one connection, so one
    /// instance migrates and the others wait, then find nothing pending (otherwise two would add the same column).
    /// SQLite serialises migrators itself.
    /// </summary>
    public static async Task MigrateOneAtATimeAsync(this DatabaseFacade database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (!database.IsNpgsql())
        {
            await database.MigrateAsync(cancellationToken);
            return;
        }
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            await database.ExecuteSqlRawAsync("SELECT pg_advisory_lock(7418238500)", cancellationToken);
            try
            {
                await database.EnsureHistoryTableAsync(cancellationToken);
                await database.MigrateAsync(cancellationToken);
            }
            finally
            {
                await database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock(7418238500)", CancellationToken.None);
            }
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    public static async Task EnsureHistoryTableAsync(this DatabaseFacade database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (!database.IsNpgsql())
        {
            return;
        }
        var script = database.GetService<IHistoryRepository>().GetCreateIfNotExistsScript();
        await using var transaction = await database.BeginTransactionAsync(cancellationToken);
        await database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7418238501)", cancellationToken);
        await database.ExecuteSqlRawAsync(script, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
