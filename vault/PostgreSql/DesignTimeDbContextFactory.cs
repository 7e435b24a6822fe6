using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Vault.PostgreSql;

/// <summary>
/// Lets <c>dotnet ef migrations add … --project vault/PostgreSql --startup-project vault/PostgreSql</c> build the
/// PostgreSQL model without a host or a server (adding a migration does not connect).
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<VaultDbContext>
{
    public VaultDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<VaultDbContext>()
            .UseNpgsql("Host=localhost;Database=securemailbox_design_time", npgsql => npgsql.MigrationsAssembly(DatabaseServiceCollectionExtensions.PostgreSqlMigrationsAssembly))
            .Options);
}
