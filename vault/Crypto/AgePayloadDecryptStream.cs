using System.Buffers;
using System.Security.Cryptography;

namespace SecureMailbox.Vault.Crypto;

/// <summary>Streaming STREAM decryption; see <see cref="AgePayload.OpenDecryptStream"/>.</summary>
internal sealed class AgePayloadDecryptStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly byte[] _fileKey;
    private readonly byte[] _cipher;
    private readonly byte[] _plain;
    private readonly byte[] _chunkNonce = new byte[12];
    private ChaCha20Poly1305? _aead;
    private ulong _counter;
    private int _plainOffset;
    private int _plainLength;
    private bool _lastChunkSeen;
    private Exception? _pendingError;
    private bool _disposed;

    public AgePayloadDecryptStream(AgeFileKey fileKey, Stream inner, bool leaveOpen)
    {
        _fileKey = fileKey.Span.ToArray();
        _inner = inner;
        _leaveOpen = leaveOpen;
        _cipher = ArrayPool<byte>.Shared.Rent(AgePayload.EncryptedChunkSize);
        _plain = ArrayPool<byte>.Shared.Rent(AgePayload.ChunkSize);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_plainOffset == _plainLength)
        {
            if (_pendingError is not null)
            {
                throw _pendingError;
            }

            if (_aead is null)
            {
                Span<byte> nonce = stackalloc byte[AgePayload.NonceSize];
                Start(nonce, _inner.ReadAtLeast(nonce, nonce.Length, throwOnEndOfStream: false));
            }

            if (!NeedsChunk())
            {
                return 0;
            }

            var read = _inner.ReadAtLeast(_cipher.AsSpan(0, AgePayload.EncryptedChunkSize), AgePayload.EncryptedChunkSize, throwOnEndOfStream: false);
            OpenChunk(read);
            if (_lastChunkSeen)
            {
                Span<byte> probe = stackalloc byte[1];
                CheckTrailing(_inner.Read(probe));
            }
        }

        return CopyOut(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_plainOffset == _plainLength)
        {
            if (_pendingError is not null)
            {
                throw _pendingError;
            }

            if (_aead is null)
            {
                var nonce = new byte[AgePayload.NonceSize];
                var nonceRead = await _inner.ReadAtLeastAsync(nonce, nonce.Length, throwOnEndOfStream: false, cancellationToken);
                Start(nonce, nonceRead);
            }

            if (!NeedsChunk())
            {
                return 0;
            }

            var read = await _inner.ReadAtLeastAsync(
                _cipher.AsMemory(0, AgePayload.EncryptedChunkSize), AgePayload.EncryptedChunkSize, throwOnEndOfStream: false, cancellationToken);
            OpenChunk(read);
            if (_lastChunkSeen)
            {
                CheckTrailing(await _inner.ReadAsync(_cipher.AsMemory(0, 1), cancellationToken));
            }
        }

        return CopyOut(buffer.Span);
    }

    private void Start(ReadOnlySpan<byte> nonce, int read)
    {
        // A missing or short nonce is a malformed file, not a payload that failed authentication
        // (CCTV age vectors stream_no_nonce / stream_short_nonce expect a header failure).
        if (read < AgePayload.NonceSize)
        {
            _pendingError = new AgeFormatException("The age payload nonce is missing or truncated.");
            throw _pendingError;
        }

        using var fileKey = AgeFileKey.FromBytes(_fileKey);
        _aead = AgePayload.CreatePayloadAead(fileKey, nonce);
        CryptographicOperations.ZeroMemory(_fileKey);
    }

    /// <summary>False at the verified end; throws a pending error once the plaintext before it is consumed.</summary>
    private bool NeedsChunk()
    {
        if (_pendingError is not null)
        {
            throw _pendingError;
        }

        return !_lastChunkSeen;
    }

    private void OpenChunk(int read)
    {
        if (read < AgePayload.TagSize)
        {
            Fail(read == 0 && _counter == 0
                ? "The age payload has no chunks."
                : "The age payload is truncated: it ends without a final chunk.");
        }

        var ciphertextLength = read - AgePayload.TagSize;
        var ciphertext = _cipher.AsSpan(0, ciphertextLength);
        var tag = _cipher.AsSpan(ciphertextLength, AgePayload.TagSize);
        var plain = _plain.AsSpan(0, ciphertextLength);

        // Only a short chunk is known to be last. A full chunk is tried as a middle chunk first and then as
        // the last one, as the reference implementation does; either way nothing unauthenticated is released.
        var last = read < AgePayload.EncryptedChunkSize;
        var opened = TryOpen(ciphertext, tag, plain, last);
        if (!opened && !last)
        {
            last = true;
            opened = TryOpen(ciphertext, tag, plain, last);
        }

        if (!opened)
        {
            Fail("An age payload chunk failed authentication: the file was altered or truncated.");
        }

        // age v1, "Payload": the last chunk may be empty only when it is the only chunk.
        if (last && ciphertextLength == 0 && _counter > 0)
        {
            Fail("The last age payload chunk is empty although it is not the first.");
        }

        _plainOffset = 0;
        _plainLength = ciphertextLength;
        _lastChunkSeen = last;
        _counter = checked(_counter + 1);
    }

    private bool TryOpen(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plain, bool last)
    {
        AgePayload.SetChunkNonce(_chunkNonce, _counter, last);
        try
        {
            _aead!.Decrypt(_chunkNonce, ciphertext, tag, plain);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    private void CheckTrailing(int read)
    {
        if (read > 0)
        {
            // The authenticated last chunk is still released, then reading fails (matching the reference
            // implementation and the CCTV trailing-garbage vectors): the stream never ends cleanly.
            _pendingError = new AgeDecryptionException(AgeDecryptionFailure.PayloadCorrupted, "There is data after the final age payload chunk.");
        }
    }

    private int CopyOut(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, _plainLength - _plainOffset);
        _plain.AsSpan(_plainOffset, count).CopyTo(buffer);
        _plainOffset += count;
        if (count == 0 && _pendingError is not null)
        {
            throw _pendingError;
        }

        return count;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(string message)
    {
        _plainOffset = _plainLength = 0;
        _pendingError = new AgeDecryptionException(AgeDecryptionFailure.PayloadCorrupted, message);
        throw _pendingError;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _disposed = true;
            _aead?.Dispose();
            CryptographicOperations.ZeroMemory(_fileKey);
            CryptographicOperations.ZeroMemory(_plain);
            ArrayPool<byte>.Shared.Return(_cipher);
            ArrayPool<byte>.Shared.Return(_plain);
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
