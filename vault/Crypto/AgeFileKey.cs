using System.Security.Cryptography;

namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// The 16-byte symmetric key of one age file. It is wrapped once per recipient into an <see cref="AgeStanza"/>
/// and never stored in clear; disposing it overwrites the key bytes.
/// </summary>
public sealed class AgeFileKey : IDisposable
{
    /// <summary>Length of an age file key in bytes (age v1 spec, "Header").</summary>
    public const int Length = 16;

    private readonly byte[] _key;
    private bool _disposed;

    private AgeFileKey(byte[] key) => _key = key;

    /// <summary>Creates a new random file key.</summary>
    public static AgeFileKey Generate() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>Copies the key out of <paramref name="key"/>, which must be 16 bytes.</summary>
    internal static AgeFileKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length)
        {
            throw new ArgumentException($"An age file key is {Length} bytes.", nameof(key));
        }

        return new AgeFileKey(key.ToArray());
    }

    internal ReadOnlySpan<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _key;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        _disposed = true;
    }
}
