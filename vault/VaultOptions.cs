using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Vault;

/// <summary>Where the vault keeps its data: configuration section <c>Vault</c>.</summary>
public sealed class VaultOptions : IValidatableObject
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

    /// <summary>
    /// The server-held link secret, 32 bytes in base64 (<see cref="Messages.LinkKeySecret"/>): set it from an environment
    /// variable (<c>Vault__LinkSecret</c>) or a secret store; when empty, <see cref="LinkSecretFile"/> is used.
    /// </summary>
    public string? LinkSecret { get; set; }

    /// <summary>The file holding the link secret; empty means <c>&lt;data folder&gt;.link-key</c> beside the data folder.</summary>
    public string? LinkSecretFile { get; set; }

    /// <summary>The full path of the link secret's file.</summary>
    public string LinkSecretPath => string.IsNullOrWhiteSpace(LinkSecretFile)
        ? Path.TrimEndingDirectorySeparator(DataPath) + ".link-key"
        : Path.GetFullPath(LinkSecretFile);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var data = Path.TrimEndingDirectorySeparator(DataPath) + Path.DirectorySeparatorChar;
        if (string.IsNullOrWhiteSpace(LinkSecret) && LinkSecretPath.StartsWith(data, StringComparison.Ordinal))
        {
            yield return new ValidationResult(
                "Vault:LinkSecretFile must not be inside Vault:DataDirectory: a copy of the data folder would then open waiting messages.",
                [nameof(LinkSecretFile)]);
        }
    }
}
