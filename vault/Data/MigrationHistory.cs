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
