using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// The age v1 payload (age v1 spec, "Payload"): a 16-byte nonce, then the plaintext in 64 KiB chunks sealed
/// with ChaCha20-Poly1305 under HKDF-SHA-256(file key, salt = nonce, info = "payload"), the STREAM
/// construction's nonce being an 11-byte big-endian chunk counter and a last-chunk flag byte.
/// </summary>
public static class AgePayload
{
    /// <summary>Plaintext bytes per chunk.</summary>
    public const int ChunkSize = 64 * 1024;

    internal const int NonceSize = 16;
    internal const int TagSize = 16;
    internal const int EncryptedChunkSize = ChunkSize + TagSize;

    private static readonly byte[] s_info = Encoding.ASCII.GetBytes("payload");

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> to <paramref name="output"/> (nonce and chunks), holding one chunk
    /// in memory at a time.
    /// </summary>
    public static async Task EncryptAsync(AgeFileKey fileKey, Stream plaintext, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fileKey);
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(output);

        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        await output.WriteAsync(nonce, cancellationToken);

        var buffer = ArrayPool<byte>.Shared.Rent(EncryptedChunkSize + 1);
        var chunkNonce = new byte[12];
        using var aead = CreatePayloadAead(fileKey, nonce);
        try
        {
            ulong counter = 0;

            // One byte of look-ahead tells whether a full chunk is the last one: only the last chunk may be
            // short, and it may be full only when nothing follows (age v1, "Payload").
            var carried = 0;
            while (true)
            {
                var read = carried + await plaintext.ReadAtLeastAsync(
                    buffer.AsMemory(carried, ChunkSize - carried), ChunkSize - carried, throwOnEndOfStream: false, cancellationToken);
                var last = true;
                carried = 0;
                if (read == ChunkSize)
                {
                    var peek = await plaintext.ReadAsync(buffer.AsMemory(EncryptedChunkSize, 1), cancellationToken);
                    last = peek == 0;
                }

                SetChunkNonce(chunkNonce, counter, last);
                aead.Encrypt(chunkNonce, buffer.AsSpan(0, read), buffer.AsSpan(0, read), buffer.AsSpan(read, TagSize));
                await output.WriteAsync(buffer.AsMemory(0, read + TagSize), cancellationToken);
                if (last)
                {
                    break;
                }

                buffer[0] = buffer[EncryptedChunkSize];
                carried = 1;
                counter = checked(counter + 1);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Returns a read-only stream of the plaintext of <paramref name="payload"/>. Each chunk is authenticated
    /// before any of its bytes are returned; tampering, truncation and trailing data raise
    /// <see cref="AgeDecryptionException"/> (<see cref="AgeDecryptionFailure.PayloadCorrupted"/>), a missing
    /// nonce raises <see cref="AgeFormatException"/>. The stream reaches its end only if the whole payload verified.
    /// </summary>
    public static Stream OpenDecryptStream(AgeFileKey fileKey, Stream payload, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(fileKey);
        ArgumentNullException.ThrowIfNull(payload);
        return new AgePayloadDecryptStream(fileKey, payload, leaveOpen);
    }

    internal static ChaCha20Poly1305 CreatePayloadAead(AgeFileKey fileKey, ReadOnlySpan<byte> nonce)
    {
        Span<byte> key = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, fileKey.Span, key, nonce, s_info);
            return new ChaCha20Poly1305(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    internal static void SetChunkNonce(Span<byte> nonce, ulong counter, bool last)
    {
        nonce[..3].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(nonce[3..11], counter);
        nonce[11] = last ? (byte)1 : (byte)0;
    }
}
