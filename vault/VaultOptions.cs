using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Vault;

/// <summary>Where the vault keeps its data: configuration section <c>Vault</c>.</summary>
public sealed class VaultOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Vault";

    /// <summary>The data folder: database file (SQLite), vault blobs, queue files, dev outboxes.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>Database provider: <c>Sqlite</c> (default) or <c>Postgres</c>.</summary>
    [Required]
    [RegularExpression("^(Sqlite|Postgres)$", ErrorMessage = "Vault:Provider must be Sqlite or Postgres.")]
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Connection string; empty means a SQLite file <c>securemailbox.db</c> in the data folder.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The full path of the data folder.</summary>
    public string DataPath => Path.GetFullPath(DataDirectory);
}
