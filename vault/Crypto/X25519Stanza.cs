using System.Security.Cryptography;
using System.Text;

namespace SecureMailbox.Vault.Crypto;

/// <summary>Wraps and unwraps a file key for an X25519 recipient (age v1 spec, "The X25519 recipient type").</summary>
public static class X25519Stanza
{
    /// <summary>The stanza type.</summary>
    public const string Type = "X25519";

    private static readonly byte[] s_info = Encoding.ASCII.GetBytes("age-encryption.org/v1/X25519");

    /// <summary>Wraps <paramref name="fileKey"/> to <paramref name="recipient"/> with a fresh ephemeral key.</summary>
    public static AgeStanza Wrap(AgeFileKey fileKey, AgeRecipient recipient)
    {
        ArgumentNullException.ThrowIfNull(fileKey);
        ArgumentNullException.ThrowIfNull(recipient);

        var ephemeral = RandomNumberGenerator.GetBytes(X25519Math.KeyLength);
        Span<byte> shared = stackalloc byte[X25519Math.KeyLength];
        try
        {
            var share = X25519Math.PublicKey(ephemeral);
            if (!X25519Math.TrySharedSecret(ephemeral, recipient.PublicKey, shared))
            {
                throw new AgeFormatException("The recipient is a low-order point.");
            }

            var body = new byte[AgeFileKey.Length + 16];
            using (var aead = CreateWrappingAead(shared, share, recipient.PublicKey))
            {
                aead.Encrypt(new byte[12], fileKey.Span, body.AsSpan(0, AgeFileKey.Length), body.AsSpan(AgeFileKey.Length));
            }

            return new AgeStanza(Type, [AgeBase64.Encode(share)], body);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ephemeral);
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>
    /// Tries to unwrap the file key. Returns false when the stanza is not an X25519 stanza or was wrapped to
    /// another key; throws <see cref="AgeFormatException"/> when it is a malformed X25519 stanza, which
    /// age v1 requires to fail the whole header rather than be skipped.
    /// </summary>
    public static bool TryUnwrap(AgeStanza stanza, AgeIdentity identity, out AgeFileKey? fileKey)
    {
        ArgumentNullException.ThrowIfNull(stanza);
        ArgumentNullException.ThrowIfNull(identity);
        fileKey = null;
        if (!string.Equals(stanza.Type, Type, StringComparison.Ordinal))
        {
            return false;
        }

        if (stanza.Args.Count != 1)
        {
            throw new AgeFormatException("An X25519 stanza has exactly one argument.");
        }

        var share = AgeBase64.Decode(stanza.Args[0], "X25519 share");
        if (share.Length != X25519Math.KeyLength)
        {
            throw new AgeFormatException("The X25519 share is not 32 bytes.");
        }

        // Checked before decrypting so a wrong-length file key is a format error, not a "no match".
        if (stanza.Body.Length != AgeFileKey.Length + 16)
        {
            throw new AgeFormatException("The X25519 stanza body is not a wrapped 16-byte file key.");
        }

        Span<byte> shared = stackalloc byte[X25519Math.KeyLength];
        var key = new byte[AgeFileKey.Length];
        try
        {
            if (!X25519Math.TrySharedSecret(identity.PrivateKey, share, shared))
            {
                throw new AgeFormatException("The X25519 share is a low-order point (all-zero shared secret).");
            }

            using var aead = CreateWrappingAead(shared, share, identity.Recipient.PublicKey);
            try
            {
                aead.Decrypt(new byte[12], stanza.Body[..AgeFileKey.Length], stanza.Body[AgeFileKey.Length..], key);
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }

            fileKey = AgeFileKey.FromBytes(key);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static ChaCha20Poly1305 CreateWrappingAead(ReadOnlySpan<byte> shared, ReadOnlySpan<byte> share, ReadOnlySpan<byte> recipient)
    {
        Span<byte> salt = stackalloc byte[X25519Math.KeyLength * 2];
        share.CopyTo(salt);
        recipient.CopyTo(salt[X25519Math.KeyLength..]);
        Span<byte> key = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, key, salt, s_info);
            return new ChaCha20Poly1305(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
