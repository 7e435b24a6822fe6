using System.Security.Cryptography;

namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// An age X25519 identity: a private key, written as <c>AGE-SECRET-KEY-1…</c> (Bech32, upper case).
/// Disposing it overwrites the private key.
/// </summary>
public sealed class AgeIdentity : IDisposable
{
    private const string Hrp = "AGE-SECRET-KEY-";

    private readonly byte[] _privateKey;
    private bool _disposed;

    private AgeIdentity(byte[] privateKey)
    {
        _privateKey = privateKey;
        Recipient = AgeRecipient.FromPublicKey(X25519Math.PublicKey(privateKey));
    }

    /// <summary>The matching public key.</summary>
    public AgeRecipient Recipient { get; }

    /// <summary>Creates a new random identity.</summary>
    public static AgeIdentity Generate() => new(RandomNumberGenerator.GetBytes(X25519Math.KeyLength));

    /// <summary>Parses an <c>AGE-SECRET-KEY-1…</c> identity; throws <see cref="AgeFormatException"/> otherwise.</summary>
    public static AgeIdentity Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (hrp, data) = Bech32.Decode(text);
        try
        {
            // Identities are upper case (age v1 spec, "The X25519 recipient type").
            if (!string.Equals(hrp, Hrp, StringComparison.Ordinal))
            {
                throw new AgeFormatException("Not an age X25519 identity (expected AGE-SECRET-KEY-1…).");
            }

            return FromPrivateKey(data);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    /// <summary>Builds an identity from a raw 32-byte X25519 private key (for example one just unwrapped).</summary>
    public static AgeIdentity FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != X25519Math.KeyLength)
        {
            throw new AgeFormatException($"An X25519 private key is {X25519Math.KeyLength} bytes.");
        }

        return new AgeIdentity(privateKey.ToArray());
    }

    /// <summary>A copy of the raw 32-byte private key, to be wrapped for storage; the caller zeroes it.</summary>
    public byte[] ExportPrivateKey() => PrivateKey.ToArray();

    internal ReadOnlySpan<byte> PrivateKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _privateKey;
        }
    }

    /// <summary>The <c>AGE-SECRET-KEY-1…</c> form, as <c>age-keygen</c> writes it.</summary>
    public override string ToString() => Bech32.Encode(Hrp, PrivateKey, upperCase: true);

    /// <inheritdoc/>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_privateKey);
        _disposed = true;
    }
}
