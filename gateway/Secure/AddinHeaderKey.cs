using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Gateway.Secure;

/// <summary>The gateway's own key for the add-in's sealed header: configuration section <c>AddinHeader</c>.</summary>
public sealed class AddinHeaderOptions
{
    public const string Section = "AddinHeader";

    /// <summary>
    /// The identity file (an <c>age-keygen</c> file: <c>AGE-SECRET-KEY-1…</c>, comment lines allowed). Empty means
    /// <c>addin-header.key</c> in the data folder, created on first start with file mode 600. Every gateway instance
    /// must use the same file.
    /// </summary>
    public string IdentityFile { get; set; } = "";

    /// <summary>Identity files of earlier keys, still accepted while messages marked before a rotation arrive.</summary>
    public List<string> PreviousIdentityFiles { get; set; } = [];
}

/// <summary>
/// The X25519 key pair the add-in seals its recipient → mobile number map to, so that a copy of a message that bypasses
/// the gateway reveals no recipient or number.
/// The private key stays in its file; the public key (<c>age1…</c>) is also written to <c>&lt;identity file&gt;.pub</c>
/// so the portal can publish it to the add-in.
/// </summary>
public sealed class AddinHeaderKey : IDisposable
{
    private readonly List<AgeIdentity> _identities = [];

    public AddinHeaderKey(IOptions<AddinHeaderOptions> options, IOptions<VaultOptions> vault, ILogger<AddinHeaderKey> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(vault);
        var configured = options.Value.IdentityFile;
        IdentityFile = string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(vault.Value.DataPath, "addin-header.key")
            : Path.GetFullPath(configured);
        if (!File.Exists(IdentityFile))
        {
            if (!string.IsNullOrWhiteSpace(configured))
            {
                throw new InvalidOperationException($"AddinHeader:IdentityFile '{IdentityFile}' does not exist.");
            }
            Create(IdentityFile);
            logger.LogInformation("Created the add-in header key at {Path}; back it up with the data folder's secrets", IdentityFile);
        }
        _identities.Add(Load(IdentityFile, "AddinHeader:IdentityFile"));
        foreach (var previous in options.Value.PreviousIdentityFiles)
        {
            _identities.Add(Load(Path.GetFullPath(previous), "AddinHeader:PreviousIdentityFiles"));
        }
        Recipient = _identities[0].Recipient;
        PublicKeyFile = IdentityFile + ".pub";
        var published = Recipient + "\n";
        if (!File.Exists(PublicKeyFile) || File.ReadAllText(PublicKeyFile) != published)
        {
            File.WriteAllText(PublicKeyFile, published);
        }
        logger.LogInformation("Add-in header key {Recipient} (public key in {PublicKeyFile})", Recipient, PublicKeyFile);
    }

    /// <summary>The private key file in use.</summary>
    public string IdentityFile { get; }

    /// <summary>The file holding <see cref="Recipient"/> as one <c>age1…</c> line.</summary>
    public string PublicKeyFile { get; }

    /// <summary>The public key the add-in encrypts to.</summary>
    public AgeRecipient Recipient { get; }

    /// <summary>The current identity first, then earlier ones.</summary>
    public IReadOnlyList<AgeIdentity> Identities => _identities;

    public void Dispose()
    {
        foreach (var identity in _identities)
        {
            identity.Dispose();
        }
    }

    private static void Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var identity = AgeIdentity.Generate();
        var text = new StringBuilder()
            .Append("# created: ").AppendLine(DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture))
            .Append("# public key: ").AppendLine(identity.Recipient.ToString())
            .AppendLine(identity.ToString())
            .ToString();
        // Created with mode 600 from the start, so the key is never readable by others, not even briefly.
        var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, file);
        stream.Write(Encoding.ASCII.GetBytes(text));
        stream.Flush(flushToDisk: true);
    }

    private static AgeIdentity Load(string path, string setting)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"{setting} '{path}' cannot be read: {e.Message}", e);
        }
        var keys = lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        if (keys.Count != 1)
        {
            throw new InvalidOperationException($"{setting} '{path}' must hold exactly one AGE-SECRET-KEY-1… line.");
        }
        try
        {
            return AgeIdentity.Parse(keys[0]);
        }
        catch (AgeFormatException e)
        {
            throw new InvalidOperationException($"{setting} '{path}' does not hold an age X25519 identity.", e);
        }
    }
}
