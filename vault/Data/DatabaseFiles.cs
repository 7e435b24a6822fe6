using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace SecureMailbox.Vault.Data;

/// <summary>What deleting for good needs from the database files themselves.</summary>
public static class DatabaseFiles
{
    /// <summary>
    /// After a deletion that must not linger (a replaced key, a deleted account): SQLite's <c>secure_delete</c>
    /// zeroes freed pages in the database file, but the old pages stay in the write-ahead log until a checkpoint,
    /// so one is forced now rather than whenever SQLite gets round to it.
    /// </summary>
    public static async Task FlushDeletedAsync(this DatabaseFacade database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (!database.IsSqlite())
        {
            // PostgreSQL keeps deleted row versions in the table's pages until VACUUM reclaims them (autovacuum, or
            // the operator's schedule: see docs/operators.md).
            return;
        }
        // A checkpoint cannot reset the log while another connection reads an older snapshot; such reads are short,
        // so it is tried again for a little while rather than left to chance.
        var connection = database.GetDbConnection();
        var opened = connection.State != System.Data.ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(cancellationToken);
        }
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                var busy = await reader.ReadAsync(cancellationToken) && reader.GetInt32(0) != 0;
                if (!busy)
                {
                    return;
                }
                if (attempt == 50)
                {
                    throw new InvalidOperationException("The database's write-ahead log could not be checkpointed after a secure deletion: a reader held it for more than 5 seconds.");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }
}
