using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace SecureMailbox.Portal.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add … --context PostgreSqlPortalDbContext --output-dir Data/PostgreSqlMigrations</c>
/// build the PostgreSQL model without a host or a server (adding a migration does not connect).
/// </summary>
internal sealed class DesignTimePostgreSqlPortalDbContextFactory : IDesignTimeDbContextFactory<PostgreSqlPortalDbContext>
{
    public PostgreSqlPortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortalDbContext>()
            .UseNpgsql("Host=localhost;Database=securemailbox_design_time", npgsql => npgsql.MigrationsHistoryTable(PortalDataServiceCollectionExtensions.PostgreSqlMigrationsHistoryTable))
            .Options);
}
