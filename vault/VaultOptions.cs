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

    /// <summary>
    /// SQLite connection string of the vault database; empty means a file <c>securemailbox.db</c> in the data folder.
    /// PostgreSQL is chosen with <see cref="Data.DatabaseOptions"/> instead.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The full path of the data folder.</summary>
    public string DataPath => Path.GetFullPath(DataDirectory);
}
