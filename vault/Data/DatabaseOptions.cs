using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Vault.Data;

/// <summary>Which database the vault and the portal use: configuration section <c>Database</c>.</summary>
public sealed class DatabaseOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Database";

    /// <summary>The embedded default: SQLite files in the data folder.</summary>
    public const string Sqlite = "Sqlite";

    /// <summary>A PostgreSQL server shared by every gateway and portal instance.</summary>
    public const string PostgreSql = "PostgreSql";

    /// <summary><c>Sqlite</c> (default) or <c>PostgreSql</c>.</summary>
    [Required(ErrorMessage = "Database:Provider must be Sqlite or PostgreSql.")]
    [RegularExpression("^(Sqlite|PostgreSql)$", ErrorMessage = "Database:Provider must be Sqlite or PostgreSql.")]
    public string Provider { get; set; } = Sqlite;

    /// <summary>The Npgsql connection string; required for PostgreSql, unused for SQLite. Never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>True when the provider is PostgreSQL.</summary>
    public bool IsPostgreSql => Provider == PostgreSql;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IsPostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Database:ConnectionString is required when Database:Provider is PostgreSql (Host=…;Database=…;Username=…;Password=…).",
                [nameof(ConnectionString)]);
        }
        if (Provider == Sqlite && !string.IsNullOrWhiteSpace(ConnectionString))
        {
            // A connection string without the provider would otherwise silently keep the data in local SQLite files.
            yield return new ValidationResult(
                "Database:ConnectionString is set but Database:Provider is Sqlite; set Database:Provider to PostgreSql, or remove the connection string.",
                [nameof(ConnectionString)]);
        }
    }
}
