using System.Text;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>Altered age files are refused, and nothing that was not authenticated is ever released.</summary>
[TestFixture]
public sealed class AgeTamperTests
{
    private const int EncryptedChunk = AgePayload.ChunkSize + 16;
    private const int PlaintextLength = (2 * AgePayload.ChunkSize) + 18_928;

    private AgeIdentity _identity = null!;
    private byte[] _plaintext = [];
    private byte[] _file = [];
    private int _payloadStart;

    [OneTimeSetUp]
    public async Task EncryptThreeChunkFileAsync()
    {
        _identity = AgeIdentity.Generate();
        _plaintext = new byte[PlaintextLength];
        await new GeneratedStream(PlaintextLength).ReadExactlyAsync(_plaintext);
        using var output = new MemoryStream();
        await AgeFile.EncryptAsync(new MemoryStream(_plaintext), output, [_identity.Recipient]);
        _file = output.ToArray();
        using var input = new MemoryStream(_file);
        AgeHeader.Parse(input);
        _payloadStart = (int)input.Position;
    }

    [OneTimeTearDown]
    public void DisposeIdentity() => _identity.Dispose();

    [Test]
    public void Decrypt_Untouched_ReleasesEverything()
    {
        var (error, released) = Decrypt(_file);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Is.Null);
            Assert.That(released, Is.EqualTo(_plaintext));
        }
    }

    [Test]
    public void Decrypt_VersionLineByteFlipped_ThrowsFormatAndReleasesNothing()
    {
        var file = (byte[])_file.Clone();
        file[5] ^= 0x01;

        var (error, released) = Decrypt(file);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Is.TypeOf<AgeFormatException>());
            Assert.That(released, Is.Empty);
        }
    }

    [Test]
    public void Decrypt_StanzaBodyByteChanged_ThrowsNoMatchAndReleasesNothing()
    {
        var file = (byte[])_file.Clone();
        var bodyLine = Encoding.ASCII.GetString(file).IndexOf('\n', "age-encryption.org/v1\n-> ".Length) + 1;
        file[bodyLine + 10] = file[bodyLine + 10] == (byte)'A' ? (byte)'B' : (byte)'A';

        var (error, released) = Decrypt(file);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Is.TypeOf<AgeDecryptionException>().With.Property(nameof(AgeDecryptionException.Failure)).EqualTo(AgeDecryptionFailure.NoMatchingIdentity));
            Assert.That(released, Is.Empty);
        }
    }

    [Test]
    public void Decrypt_StanzaInserted_ThrowsHeaderMacMismatchAndReleasesNothing()
    {
        var version = "age-encryption.org/v1\n"u8.ToArray();
        var file = version.Concat("-> grease x\n\n"u8.ToArray()).Concat(_file.Skip(version.Length)).ToArray();

        var (error, released) = Decrypt(file);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Is.TypeOf<AgeDecryptionException>().With.Property(nameof(AgeDecryptionException.Failure)).EqualTo(AgeDecryptionFailure.HeaderMacMismatch));
            Assert.That(released, Is.Empty);
        }
    }

    [Test]
    public void Decrypt_MacByteFlipped_ThrowsHeaderMacMismatchAndReleasesNothing()
    {
        var text = Encoding.ASCII.GetString(_file, 0, _payloadStart);
        var macStart = text.LastIndexOf("--- ", StringComparison.Ordinal) + 4;
        var mac = Convert.FromBase64String(text[macStart..^1] + "=");
        mac[7] ^= 0x80;
        var file = _file.Take(macStart)
            .Concat(Encoding.ASCII.GetBytes(Convert.ToBase64String(mac).TrimEnd('=') + "\n"))
            .Concat(_file.Skip(_payloadStart))
            .ToArray();

        var (error, released) = Decrypt(file);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Is.TypeOf<AgeDecryptionException>().With.Property(nameof(AgeDecryptionException.Failure)).EqualTo(AgeDecryptionFailure.HeaderMacMismatch));
            Assert.That(released, Is.Empty);
        }
    }

    [Test]
    public void Decrypt_PayloadNonceByteFlipped_ThrowsPayloadCorruptedAndReleasesNothing()
    {
        var file = (byte[])_file.Clone();
        file[_payloadStart + 3] ^= 0x01;

        var (error, released) = Decrypt(file);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Is.TypeOf<AgeDecryptionException>().With.Property(nameof(AgeDecryptionException.Failure)).EqualTo(AgeDecryptionFailure.PayloadCorrupted));
            Assert.That(released, Is.Empty);
        }
    }

    [Test]
    public void Decrypt_MiddleChunkByteFlipped_ThrowsAfterReleasingOnlyTheFirstChunk()
    {
        var file = (byte[])_file.Clone();
        file[_payloadStart + 16 + EncryptedChunk + 1000] ^= 0x01;

        AssertRefusedAfterPrefix(file, AgePayload.ChunkSize);
    }

    [Test]
    public void Decrypt_TagOfLastChunkFlipped_ThrowsAfterReleasingTheFullChunks()
    {
        var file = (byte[])_file.Clone();
        file[^1] ^= 0x01;

        AssertRefusedAfterPrefix(file, 2 * AgePayload.ChunkSize);
    }

    [TestCase(1)]
    [TestCase(2)]
    public void Decrypt_TruncatedAtChunkBoundary_ThrowsAfterReleasingTheChunksBefore(int chunksKept)
    {
        var file = _file.AsSpan(0, _payloadStart + 16 + (chunksKept * EncryptedChunk)).ToArray();

        AssertRefusedAfterPrefix(file, chunksKept * AgePayload.ChunkSize);
    }

    [Test]
    public void Decrypt_TruncatedInsideLastChunk_ThrowsAfterReleasingTheFullChunks()
    {
        AssertRefusedAfterPrefix(_file[..^5], 2 * AgePayload.ChunkSize);
    }

    [TestCase(1)]
    [TestCase(100)]
    [TestCase(EncryptedChunk)]
    public void Decrypt_TrailingBytesAppended_Throws(int extra)
    {
        var file = _file.Concat(Enumerable.Repeat((byte)0x2a, extra)).ToArray();

        AssertRefusedAfterPrefix(file, 2 * AgePayload.ChunkSize);
    }

    [Test]
    public async Task DecryptAsync_TrailingByteAfterFullLastChunk_ThrowsBeforeTheEnd()
    {
        // A full last chunk is only recognised as last at the end of input, so trailing data after it is
        // caught after that authenticated chunk is released, but the stream never ends without an error.
        using var output = new MemoryStream();
        await AgeFile.EncryptAsync(new GeneratedStream(2 * AgePayload.ChunkSize), output, [_identity.Recipient]);
        var file = output.ToArray().Append((byte)0).ToArray();

        var error = Assert.ThrowsAsync<AgeDecryptionException>(() => AgeFile.DecryptAsync(new MemoryStream(file), Stream.Null, _identity));

        Assert.That(error.Failure, Is.EqualTo(AgeDecryptionFailure.PayloadCorrupted));
    }

    [Test]
    public void DecryptAsync_MiddleChunkByteFlipped_Throws()
    {
        var file = (byte[])_file.Clone();
        file[_payloadStart + 16 + EncryptedChunk + 5] ^= 0x40;

        var error = Assert.ThrowsAsync<AgeDecryptionException>(() => AgeFile.DecryptAsync(new MemoryStream(file), Stream.Null, _identity));

        Assert.That(error.Failure, Is.EqualTo(AgeDecryptionFailure.PayloadCorrupted));
    }

    private void AssertRefusedAfterPrefix(byte[] file, int authenticatedLength)
    {
        var (error, released) = Decrypt(file);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Is.TypeOf<AgeDecryptionException>().With.Property(nameof(AgeDecryptionException.Failure)).EqualTo(AgeDecryptionFailure.PayloadCorrupted));
            Assert.That(released, Has.Length.EqualTo(authenticatedLength), "only whole authenticated chunks may be released");
            Assert.That(released, Is.EqualTo(_plaintext.AsSpan(0, Math.Min(released.Length, _plaintext.Length)).ToArray()));
        }
    }

    private (AgeException? Error, byte[] Released) Decrypt(byte[] file)
    {
        using var released = new MemoryStream();
        try
        {
            using var plaintext = AgeFile.OpenDecryptStream(new MemoryStream(file), _identity);
            var buffer = new byte[4096];
            int read;
            while ((read = plaintext.Read(buffer)) > 0)
            {
                released.Write(buffer, 0, read);
            }

            // Reading again at the end must stay at the end.
            Assert.That(plaintext.Read(buffer), Is.Zero);
            return (null, released.ToArray());
        }
        catch (AgeException e)
        {
            return (e, released.ToArray());
        }
    }
}
