using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>Large messages are encrypted and decrypted in chunks, never held in memory (docs/rules.md property 4).</summary>
[TestFixture]
public sealed class AgeStreamingTests
{
    private const long Size = (256L * 1024 * 1024) + 12_345;
    private const long AllocationBudget = 4L * 1024 * 1024;

    [Test]
    public async Task EncryptAndDecrypt_256MiB_AllocatesLittleAndRoundTrips()
    {
        using var identity = AgeIdentity.Generate();
        var expected = new HashingStream();
        await new GeneratedStream(Size).CopyToAsync(expected);
        var path = Path.Combine(Path.GetTempPath(), $"age-stream-{Guid.NewGuid():N}.age");
        try
        {
            // Warm up code paths and pools so the measurement below counts per-byte costs, not JIT or first use.
            await using (var warm = new MemoryStream())
            {
                await AgeFile.EncryptAsync(new GeneratedStream(200_000), warm, [identity.Recipient]);
                warm.Position = 0;
                await AgeFile.DecryptAsync(warm, Stream.Null, identity);
            }

            var before = GC.GetTotalAllocatedBytes(precise: true);
            await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0))
            {
                await AgeFile.EncryptAsync(new GeneratedStream(Size), output, [identity.Recipient]);
            }

            var encryptAllocated = GC.GetTotalAllocatedBytes(precise: true) - before;

            using var actual = new HashingStream();
            before = GC.GetTotalAllocatedBytes(precise: true);
            await using (var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, 0))
            {
                await AgeFile.DecryptAsync(input, actual, identity);
            }

            var decryptAllocated = GC.GetTotalAllocatedBytes(precise: true) - before;

            using (Assert.EnterMultipleScope())
            {
                Assert.That(new FileInfo(path).Length, Is.GreaterThan(Size), "the ciphertext went to disk");
                Assert.That(actual.Length, Is.EqualTo(Size));
                Assert.That(actual.HashHex(), Is.EqualTo(expected.HashHex()));
                Assert.That(encryptAllocated, Is.LessThan(AllocationBudget), "bytes allocated while encrypting 256 MiB");
                Assert.That(decryptAllocated, Is.LessThan(AllocationBudget), "bytes allocated while decrypting 256 MiB");
            }

            TestContext.Progress.WriteLine($"256 MiB: encrypt allocated {encryptAllocated:N0} B, decrypt allocated {decryptAllocated:N0} B");
        }
        finally
        {
            File.Delete(path);
            expected.Dispose();
        }
    }
}
