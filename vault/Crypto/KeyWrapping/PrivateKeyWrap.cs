using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace SecureMailbox.Vault.Crypto.KeyWrapping;

/// <summary>
/// Wraps an account's X25519 private key for storage (docs/rules.md properties 2, 5, 6): under a
/// password or backup code through Argon2id, or under a 32-byte random secret (link secret, session key,
/// recovery secret) through HKDF-SHA-256; then ChaCha20-Poly1305 with a random nonce.
/// </summary>
/// <remarks>
/// Wrapped key layout, version 1 (all integers big-endian):
/// <code>
/// "SMKW" | version=1 | purpose (1 byte) | kdf (1 byte)
///   kdf 1, Argon2id v1.3: memory KiB (u32) | iterations (u32) | parallelism (u32) | salt (16)
///   kdf 2, HKDF-SHA-256: salt (32)
/// nonce (12) | encrypted private key (32) | tag (16)
/// </code>
/// The associated data is every byte before the nonce followed by the length-prefixed UTF-8 key id, so the
/// purpose, the KDF parameters and the account or key the blob belongs to are all authenticated; the key id
/// itself is not stored and must be supplied again to unwrap.
/// </remarks>
public static class PrivateKeyWrap
{
    /// <summary>Length of the wrapped X25519 private key.</summary>
    public const int PrivateKeyLength = 32;

    /// <summary>Length of a high-entropy wrapping secret.</summary>
    public const int SecretLength = 32;

    private const byte Version1 = 1;
    private const byte KdfArgon2id = 1;
    private const byte KdfHkdfSha256 = 2;
    private const int Argon2SaltLength = 16;
    private const int HkdfSaltLength = 32;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private const int PrefixLength = 7;
    private const int Argon2HeaderLength = PrefixLength + 12 + Argon2SaltLength;
    private const int HkdfHeaderLength = PrefixLength + HkdfSaltLength;
    private const int SealedLength = NonceLength + PrivateKeyLength + TagLength;

    private static ReadOnlySpan<byte> Magic => "SMKW"u8;

    /// <summary>Wraps <paramref name="privateKey"/> under a password or backup code.</summary>
    /// <param name="privateKey">The 32-byte X25519 private key.</param>
    /// <param name="password">The password or (already normalised) backup code.</param>
    /// <param name="purpose"><see cref="KeyWrapPurpose.Password"/> or <see cref="KeyWrapPurpose.BackupCode"/>.</param>
    /// <param name="keyId">The account or key the blob belongs to; needed again to unwrap.</param>
    /// <param name="parameters">Argon2id cost, at least <see cref="Argon2idParameters.Minimum"/>; default <see cref="Argon2idParameters.Default"/>.</param>
    public static byte[] WrapWithPassword(ReadOnlySpan<byte> privateKey, string password, KeyWrapPurpose purpose, string keyId, Argon2idParameters? parameters = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentNullException.ThrowIfNull(keyId);
        RequirePasswordPurpose(purpose);
        RequireLength(privateKey, PrivateKeyLength, nameof(privateKey));
        parameters ??= Argon2idParameters.Default;
        if (!parameters.IsAcceptable)
        {
            throw new ArgumentException($"Argon2id parameters must be at least {Argon2idParameters.Minimum} and within the vault's caps.", nameof(parameters));
        }

        var header = new byte[Argon2HeaderLength];
        WritePrefix(header, purpose, KdfArgon2id);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(7), (uint)parameters.MemoryKiB);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(11), (uint)parameters.Iterations);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(15), (uint)parameters.Parallelism);
        RandomNumberGenerator.Fill(header.AsSpan(19, Argon2SaltLength));

        var kek = DeriveFromPassword(password, header.AsSpan(19, Argon2SaltLength), parameters);
        return Seal(header, kek, privateKey, keyId);
    }

    /// <summary>Unwraps a key made by <c>WrapWithPassword</c>; throws <see cref="KeyUnwrapException"/> on any failure.</summary>
    public static byte[] UnwrapWithPassword(ReadOnlySpan<byte> wrappedKey, string password, KeyWrapPurpose purpose, string keyId)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(keyId);
        RequirePasswordPurpose(purpose);
        var info = Describe(wrappedKey);
        if (info.Purpose != purpose || info.Argon2id is null || wrappedKey.Length != Argon2HeaderLength + SealedLength)
        {
            throw new KeyUnwrapException();
        }

        // Stored parameters are honoured (so old blobs unwrap after the defaults are raised) but never below
        // the minimum, which no blob was ever created with, nor above the caps.
        if (!info.Argon2id.IsAcceptable)
        {
            throw new KeyUnwrapException();
        }

        var kek = DeriveFromPassword(password, wrappedKey.Slice(19, Argon2SaltLength), info.Argon2id);
        return Open(wrappedKey, Argon2HeaderLength, kek, keyId);
    }

    /// <summary>Wraps <paramref name="privateKey"/> under a 32-byte random secret (link secret, session key, recovery secret).</summary>
    public static byte[] WrapWithSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> secret, KeyWrapPurpose purpose, string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        RequireSecretPurpose(purpose);
        RequireLength(privateKey, PrivateKeyLength, nameof(privateKey));
        RequireLength(secret, SecretLength, nameof(secret));

        var header = new byte[HkdfHeaderLength];
        WritePrefix(header, purpose, KdfHkdfSha256);
        RandomNumberGenerator.Fill(header.AsSpan(PrefixLength, HkdfSaltLength));
        var kek = DeriveFromSecret(secret, header.AsSpan(PrefixLength, HkdfSaltLength), purpose);
        return Seal(header, kek, privateKey, keyId);
    }

    /// <summary>Unwraps a key made by <c>WrapWithSecret</c>; throws <see cref="KeyUnwrapException"/> on any failure.</summary>
    public static byte[] UnwrapWithSecret(ReadOnlySpan<byte> wrappedKey, ReadOnlySpan<byte> secret, KeyWrapPurpose purpose, string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        RequireSecretPurpose(purpose);
        var info = Describe(wrappedKey);
        if (info.Purpose != purpose || info.Argon2id is not null || secret.Length != SecretLength ||
            wrappedKey.Length != HkdfHeaderLength + SealedLength)
        {
            throw new KeyUnwrapException();
        }

        var kek = DeriveFromSecret(secret, wrappedKey.Slice(PrefixLength, HkdfSaltLength), purpose);
        return Open(wrappedKey, HkdfHeaderLength, kek, keyId);
    }

    /// <summary>Wraps an identity's private key under a password or backup code.</summary>
    public static byte[] WrapWithPassword(AgeIdentity identity, string password, KeyWrapPurpose purpose, string keyId, Argon2idParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return WrapWithPassword(identity.PrivateKey, password, purpose, keyId, parameters);
    }

    /// <summary>Unwraps an identity wrapped under a password or backup code.</summary>
    public static AgeIdentity UnwrapIdentityWithPassword(ReadOnlySpan<byte> wrappedKey, string password, KeyWrapPurpose purpose, string keyId) =>
        ToIdentity(UnwrapWithPassword(wrappedKey, password, purpose, keyId));

    /// <summary>Wraps an identity's private key under a 32-byte random secret.</summary>
    public static byte[] WrapWithSecret(AgeIdentity identity, ReadOnlySpan<byte> secret, KeyWrapPurpose purpose, string keyId)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return WrapWithSecret(identity.PrivateKey, secret, purpose, keyId);
    }

    /// <summary>Unwraps an identity wrapped under a 32-byte random secret.</summary>
    public static AgeIdentity UnwrapIdentityWithSecret(ReadOnlySpan<byte> wrappedKey, ReadOnlySpan<byte> secret, KeyWrapPurpose purpose, string keyId) =>
        ToIdentity(UnwrapWithSecret(wrappedKey, secret, purpose, keyId));

    /// <summary>
    /// Reads the unauthenticated description of a wrapped key (purpose, KDF parameters), for example to decide
    /// whether to re-wrap it with stronger parameters after the next successful unwrap.
    /// </summary>
    public static WrappedKeyInfo Describe(ReadOnlySpan<byte> wrappedKey)
    {
        if (wrappedKey.Length < PrefixLength || !wrappedKey.StartsWith(Magic) || wrappedKey[4] != Version1 ||
            !Enum.IsDefined((KeyWrapPurpose)wrappedKey[5]))
        {
            throw new KeyUnwrapException();
        }

        var purpose = (KeyWrapPurpose)wrappedKey[5];
        switch (wrappedKey[6])
        {
            case KdfArgon2id when wrappedKey.Length >= Argon2HeaderLength:
                var memory = BinaryPrimitives.ReadUInt32BigEndian(wrappedKey[7..]);
                var iterations = BinaryPrimitives.ReadUInt32BigEndian(wrappedKey[11..]);
                var parallelism = BinaryPrimitives.ReadUInt32BigEndian(wrappedKey[15..]);
                if (memory > int.MaxValue || iterations > int.MaxValue || parallelism > int.MaxValue)
                {
                    throw new KeyUnwrapException();
                }

                return new WrappedKeyInfo(Version1, purpose, new Argon2idParameters((int)memory, (int)iterations, (int)parallelism));
            case KdfHkdfSha256 when wrappedKey.Length >= HkdfHeaderLength:
                return new WrappedKeyInfo(Version1, purpose, null);
            default:
                throw new KeyUnwrapException();
        }
    }

    /// <summary>Argon2id v1.3 through BouncyCastle, exposed for the RFC 9106 known-answer test.</summary>
    internal static byte[] Argon2id(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, Argon2idParameters parameters, int length, byte[]? secret = null, byte[]? associatedData = null)
    {
        var builder = new Argon2Parameters.Builder(Argon2Parameters.Argon2id)
            .WithVersion(Argon2Parameters.Version13)
            .WithMemoryAsKB(parameters.MemoryKiB)
            .WithIterations(parameters.Iterations)
            .WithParallelism(parameters.Parallelism)
            .WithSalt(salt.ToArray());
        if (secret is not null)
        {
            builder.WithSecret(secret);
        }

        if (associatedData is not null)
        {
            builder.WithAdditional(associatedData);
        }

        var generator = new Argon2BytesGenerator();
        generator.Init(builder.Build());
        var output = new byte[length];
        var passwordCopy = password.ToArray();
        try
        {
            generator.GenerateBytes(passwordCopy, output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordCopy);
        }

        return output;
    }

    private static byte[] DeriveFromPassword(string password, ReadOnlySpan<byte> salt, Argon2idParameters parameters)
    {
        // NFC so the same password typed on different keyboards or systems derives the same key.
        var bytes = Encoding.UTF8.GetBytes(password.Normalize(NormalizationForm.FormC));
        try
        {
            return Argon2id(bytes, salt, parameters, 32);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static byte[] DeriveFromSecret(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> salt, KeyWrapPurpose purpose)
    {
        var info = Encoding.ASCII.GetBytes($"SecureMailbox.Vault key wrap v1 {purpose}");
        var kek = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, kek, salt, info);
        return kek;
    }

    private static byte[] Seal(byte[] header, byte[] kek, ReadOnlySpan<byte> privateKey, string keyId)
    {
        var blob = new byte[header.Length + SealedLength];
        header.CopyTo(blob, 0);
        var nonce = blob.AsSpan(header.Length, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        try
        {
            using var aead = new ChaCha20Poly1305(kek);
            aead.Encrypt(
                nonce,
                privateKey,
                blob.AsSpan(header.Length + NonceLength, PrivateKeyLength),
                blob.AsSpan(header.Length + NonceLength + PrivateKeyLength, TagLength),
                AssociatedData(header, keyId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }

        return blob;
    }

    private static byte[] Open(ReadOnlySpan<byte> blob, int headerLength, byte[] kek, string keyId)
    {
        var privateKey = new byte[PrivateKeyLength];
        try
        {
            using var aead = new ChaCha20Poly1305(kek);
            aead.Decrypt(
                blob.Slice(headerLength, NonceLength),
                blob.Slice(headerLength + NonceLength, PrivateKeyLength),
                blob.Slice(headerLength + NonceLength + PrivateKeyLength, TagLength),
                privateKey,
                AssociatedData(blob[..headerLength], keyId));
            return privateKey;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new KeyUnwrapException();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    private static byte[] AssociatedData(ReadOnlySpan<byte> header, string keyId)
    {
        var id = Encoding.UTF8.GetBytes(keyId);
        var data = new byte[header.Length + 4 + id.Length];
        header.CopyTo(data);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(header.Length), id.Length);
        id.CopyTo(data, header.Length + 4);
        return data;
    }

    private static void WritePrefix(Span<byte> header, KeyWrapPurpose purpose, byte kdf)
    {
        Magic.CopyTo(header);
        header[4] = Version1;
        header[5] = (byte)purpose;
        header[6] = kdf;
    }

    private static AgeIdentity ToIdentity(byte[] privateKey)
    {
        try
        {
            return AgeIdentity.FromPrivateKey(privateKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    private static void RequirePasswordPurpose(KeyWrapPurpose purpose)
    {
        if (purpose is not (KeyWrapPurpose.Password or KeyWrapPurpose.BackupCode))
        {
            throw new ArgumentException("Passwords and backup codes wrap with purpose Password or BackupCode.", nameof(purpose));
        }
    }

    private static void RequireSecretPurpose(KeyWrapPurpose purpose)
    {
        if (purpose is not (KeyWrapPurpose.LinkSecret or KeyWrapPurpose.SessionKey or KeyWrapPurpose.RecoveryKey))
        {
            throw new ArgumentException("32-byte secrets wrap with purpose LinkSecret, SessionKey or RecoveryKey.", nameof(purpose));
        }
    }

    private static void RequireLength(ReadOnlySpan<byte> value, int length, string name)
    {
        if (value.Length != length)
        {
            throw new ArgumentException($"Expected {length} bytes.", name);
        }
    }
}

/// <summary>What the (unauthenticated) header of a wrapped key says.</summary>
/// <param name="Version">Format version.</param>
/// <param name="Purpose">What the key is wrapped under.</param>
/// <param name="Argon2id">The Argon2id parameters for password and backup-code wraps; null for secret wraps.</param>
public sealed record WrappedKeyInfo(int Version, KeyWrapPurpose Purpose, Argon2idParameters? Argon2id);
