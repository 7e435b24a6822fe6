using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace SecureMailbox.Vault.Crypto;

/// <summary>RFC 7748 X25519 through BouncyCastle, with the all-zero check age requires.</summary>
internal static class X25519Math
{
    public const int KeyLength = 32;

    public static byte[] PublicKey(ReadOnlySpan<byte> privateKey)
    {
        var scalar = privateKey.ToArray();
        var result = new byte[KeyLength];
        try
        {
            X25519.ScalarMultBase(scalar, 0, result, 0);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }

        return result;
    }

    /// <summary>
    /// Returns false when the shared secret is all zeros (a low-order or identity point), which age v1
    /// ("X25519 recipient type") requires to be rejected.
    /// </summary>
    public static bool TrySharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> shared)
    {
        var scalar = privateKey.ToArray();
        var point = publicKey.ToArray();
        var result = new byte[KeyLength];
        try
        {
            X25519.ScalarMult(scalar, 0, point, 0, result, 0);
            result.CopyTo(shared);
            Span<byte> zero = stackalloc byte[KeyLength];
            zero.Clear();
            return !CryptographicOperations.FixedTimeEquals(result, zero);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
            CryptographicOperations.ZeroMemory(result);
        }
    }
}
