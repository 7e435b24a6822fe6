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
        if (database.IsSqlite())
        {
            await database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken);
        }
    }
}
