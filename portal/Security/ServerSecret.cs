using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;

namespace SecureMailbox.Portal.Security;

/// <summary>
/// A 256-bit server secret in <c>&lt;data&gt;/portal-secret.key</c> (created on first start, owner-only), from which
/// purpose-bound keys are derived (e.g. the SMS code HMAC key). It protects hashes at rest, never mail keys.
/// </summary>
public sealed class ServerSecret
{
    private readonly byte[] _secret;

    public ServerSecret(IOptions<VaultOptions> vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        Directory.CreateDirectory(vault.Value.DataPath);
        var path = Path.Combine(vault.Value.DataPath, "portal-secret.key");
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            try
            {
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                stream.Write(fresh);
                stream.Flush(flushToDisk: true);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another instance created it first: use theirs.
            }
        }
        _secret = File.ReadAllBytes(path);
        if (_secret.Length != 32)
        {
            throw new InvalidOperationException($"{path} must hold 32 bytes.");
        }
    }

    public byte[] Derive(string purpose) => HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, salt: [], info: Encoding.ASCII.GetBytes(purpose));
}
