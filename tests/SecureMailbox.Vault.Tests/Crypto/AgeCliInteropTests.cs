using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>The vault's age files against the real <c>age</c> tool, both ways (docs/rules.md property 3).</summary>
[TestFixture]
public sealed class AgeCliInteropTests
{
    private string _dir = "";

    private static readonly long[] s_sizes = [0, 1, 65_535, 65_536, 65_537, (200 * 1024) + 1, 3 * 65_536];

    [SetUp]
    public void CreateDirectory() => _dir = Directory.CreateTempSubdirectory("age-interop-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    [TestCaseSource(nameof(s_sizes))]
    public async Task EncryptAsync_VaultFile_AgeCliDecrypts(long size)
    {
        using var identity = AgeIdentity.Generate();
        var identityFile = Path.Combine(_dir, "identity.txt");
        await File.WriteAllTextAsync(identityFile, identity + "\n");
        var encrypted = Path.Combine(_dir, "message.age");

        await using (var output = File.Create(encrypted))
        {
            using var other = AgeIdentity.Generate();
            await AgeFile.EncryptAsync(new GeneratedStream(size), output, [other.Recipient, identity.Recipient]);
        }

        // Through stdout: with -o, age creates no file at all for an empty plaintext.
        var decrypted = await AgeCli.RunForBytesAsync("age", "-d", "-i", identityFile, encrypted);

        Assert.That(await HashAsync(new MemoryStream(decrypted)), Is.EqualTo(await HashAsync(new GeneratedStream(size))));
    }

    [TestCaseSource(nameof(s_sizes))]
    public async Task DecryptAsync_AgeCliFile_VaultDecrypts(long size)
    {
        var keyFile = Path.Combine(_dir, "key.txt");
        await AgeCli.RunAsync("age-keygen", "-o", keyFile);
        var recipient = (await AgeCli.RunAsync("age-keygen", "-y", keyFile)).Trim();
        var plain = Path.Combine(_dir, "plain.bin");
        await using (var file = File.Create(plain))
        {
            await new GeneratedStream(size, seed: 7).CopyToAsync(file);
        }

        var encrypted = Path.Combine(_dir, "plain.bin.age");
        await AgeCli.RunAsync("age", "-r", recipient, "-o", encrypted, plain);

        var secretLine = (await File.ReadAllLinesAsync(keyFile)).Single(l => l.StartsWith("AGE-SECRET-KEY-1", StringComparison.Ordinal));
        using var identity = AgeIdentity.Parse(secretLine);
        using var sink = new HashingStream();
        await using (var input = File.OpenRead(encrypted))
        {
            await AgeFile.DecryptAsync(input, sink, identity);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(identity.Recipient.ToString(), Is.EqualTo(recipient), "recipient derived from the age-keygen identity");
            Assert.That(identity.ToString(), Is.EqualTo(secretLine), "identity re-encoded as age-keygen wrote it");
            Assert.That(sink.Length, Is.EqualTo(size));
            Assert.That(sink.HashHex(), Is.EqualTo(await HashFileAsync(plain)));
        }
    }

    [Test]
    public async Task UnwrapFileKey_StanzaAddedLater_AgeCliDecryptsReassembledFile()
    {
        using var alice = AgeIdentity.Generate();
        using var bob = AgeIdentity.Generate();
        var bobFile = Path.Combine(_dir, "bob.txt");
        await File.WriteAllTextAsync(bobFile, bob + "\n");

        // The vault keeps stanzas in the database and the payload in the blob store.
        using var payload = new MemoryStream();
        string aliceStanza;
        using (var fileKey = AgeFileKey.Generate())
        {
            aliceStanza = X25519Stanza.Wrap(fileKey, alice.Recipient).ToString();
            await AgePayload.EncryptAsync(fileKey, new GeneratedStream(100_000), payload);
        }

        // Later Bob is added by unwrapping with Alice's key and wrapping again; the payload is not touched.
        Assert.That(X25519Stanza.TryUnwrap(AgeStanza.Parse(aliceStanza), alice, out var key), Is.True);
        using (key)
        {
            var bobStanza = X25519Stanza.Wrap(key!, bob.Recipient);
            var export = Path.Combine(_dir, "export.age");
            await using (var file = File.Create(export))
            {
                await file.WriteAsync(AgeHeader.Write([AgeStanza.Parse(aliceStanza), bobStanza], key!));
                payload.Position = 0;
                await payload.CopyToAsync(file);
            }

            var decrypted = Path.Combine(_dir, "export.out");
            await AgeCli.RunAsync("age", "-d", "-i", bobFile, "-o", decrypted, export);
            Assert.That(await HashFileAsync(decrypted), Is.EqualTo(await HashAsync(new GeneratedStream(100_000))));
        }
    }

    private static async Task<string> HashFileAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return await HashAsync(file);
    }

    private static async Task<string> HashAsync(Stream stream)
    {
        using var sink = new HashingStream();
        await stream.CopyToAsync(sink);
        return sink.HashHex();
    }
}
