using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Vault.Messages;

/// <summary>
/// The server-held half of every link key (docs/rules.md property 5): a link's private key is wrapped under a key derived
/// from the token in the notification <em>and</em> this 256-bit secret, so neither a notification nor a copy of the
/// data folder or the database opens a waiting message alone. It comes from <c>Vault:LinkSecret</c> (base64, for an
/// environment variable or a secret store) or else from the file <c>Vault:LinkSecretFile</c>, by default
/// <c>&lt;data folder&gt;.link-key</c> beside (never inside) the data folder, created owner-only on first start.
/// The gateway (which wraps) and the portal (which unwraps) must see the same secret.
/// </summary>
public sealed class LinkKeySecret
{
    private readonly byte[] _secret;

    /// <summary>Reads (or on first start creates) the secret; throws with the setting's name when it is unusable.</summary>
    public LinkKeySecret(IOptions<VaultOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var vault = options.Value;
        if (!string.IsNullOrWhiteSpace(vault.LinkSecret))
        {
            _secret = FromBase64(vault.LinkSecret);
            return;
        }
        var path = vault.LinkSecretPath;
        if (!File.Exists(path))
        {
            Create(path);
        }
        _secret = File.ReadAllBytes(path);
        if (_secret.Length != 32)
        {
            throw new InvalidOperationException($"Vault:LinkSecretFile ({path}) must hold 32 bytes.");
        }
    }

    /// <summary>The secret (32 bytes).</summary>
    internal ReadOnlySpan<byte> Value => _secret;

    private static byte[] FromBase64(string text)
    {
        try
        {
            var bytes = Convert.FromBase64String(text.Trim());
            if (bytes.Length == 32)
            {
                return bytes;
            }
        }
        catch (FormatException)
        {
        }
        throw new InvalidOperationException("Vault:LinkSecret must be 32 bytes in base64 (e.g. from `openssl rand -base64 32`).");
    }

    private static void Create(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var fresh = RandomNumberGenerator.GetBytes(32);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var stream = new FileStream(path, options))
            {
                stream.Write(fresh);
                stream.Flush(flushToDisk: true);
            }
            Storage.DurableFile.SyncDirectory(directory);
        }
        catch (IOException) when (File.Exists(path))
        {
            // The other service (gateway or portal) created it first: use theirs. A reader may still see it empty
            // for a moment, so wait for the 32 bytes.
            for (var i = 0; i < 50 && new FileInfo(path).Length < 32; i++)
            {
                Thread.Sleep(20);
            }
        }
        CryptographicOperations.ZeroMemory(fresh);
    }
}
