using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace SecureMailbox.Vault.Data;

/// <summary>Serialises the read-check-write transactions on one account's keys.</summary>
public static class AccountRowLock
{
    /// <summary>
    /// Inside a transaction: waits for, then holds, the account's row until the transaction ends. SQLite lets one
    /// writer in at a time, so there this is a no-op; PostgreSQL (READ COMMITTED) would otherwise let two concurrent
    /// transactions both see the old state (both activate a pending account, both replace its keys) and leave two
    /// password wraps behind.
    /// </summary>
    public static async Task LockAccountAsync(this DatabaseFacade database, Guid accountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (database.IsNpgsql())
        {
            await database.ExecuteSqlAsync($"""SELECT 1 FROM "Accounts" WHERE "Id" = {accountId} FOR UPDATE""", cancellationToken);
        }
    }
}
