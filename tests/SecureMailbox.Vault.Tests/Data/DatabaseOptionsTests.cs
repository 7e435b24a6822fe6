using Microsoft.Extensions.Options;
using SecureMailbox.Vault.Tests.Support;

namespace SecureMailbox.Vault.Tests.Data;

/// <summary>A database configuration that cannot work stops the service at start, naming the setting.</summary>
[TestFixture]
public sealed class DatabaseOptionsTests
{
    [TestCase("PostgreSql", null, "Database:ConnectionString is required")]
    [TestCase("PostgreSql", " ", "Database:ConnectionString is required")]
    [TestCase("MySql", null, "Database:Provider must be Sqlite or PostgreSql")]
    [TestCase("postgres", "Host=127.0.0.1", "Database:Provider must be Sqlite or PostgreSql")]
    [TestCase("Sqlite", "Host=127.0.0.1;Password=secret-in-config", "Database:ConnectionString is set but Database:Provider is Sqlite")]
    public void Start_HostileDatabaseSettings_FailsNamingTheSetting(string provider, string? connectionString, string expected)
    {
        var error = Assert.ThrowsAsync<OptionsValidationException>(() => VaultHost.StartAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["Database:ConnectionString"] = connectionString,
        }));

        Assert.That(error!.Message, Does.Contain(expected));
        Assert.That(error.Message, Does.Not.Contain("secret-in-config"));
    }
}
