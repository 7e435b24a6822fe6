using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>
/// Stanzas stored apart from the payload: adding a recipient wraps the same file key again, removing the
/// stanzas removes access (docs/rules.md properties 3 and 7).
/// </summary>
[TestFixture]
public sealed class AgeRewrapTests
{
    [Test]
    public async Task Wrap_SecondRecipientLater_DecryptsSamePayload()
    {
        using var alice = AgeIdentity.Generate();
        using var bob = AgeIdentity.Generate();
        var (storedStanzas, payload) = await EncryptForAsync(alice.Recipient);

        // Alice shares the message: the stored payload is untouched, one stanza is added.
        Assert.That(X25519Stanza.TryUnwrap(AgeStanza.Parse(storedStanzas[0]), alice, out var aliceKey), Is.True);
        using (aliceKey)
        {
            storedStanzas.Add(X25519Stanza.Wrap(aliceKey!, bob.Recipient).ToString());
        }

        var plaintext = await DecryptAsync(storedStanzas, payload, bob);

        Assert.That(plaintext, Is.EqualTo(await ReadAllAsync(new GeneratedStream(150_000))));
    }

    [Test]
    public async Task Unwrap_StanzaRemoved_RecipientCannotDecrypt()
    {
        using var alice = AgeIdentity.Generate();
        using var bob = AgeIdentity.Generate();
        var (storedStanzas, payload) = await EncryptForAsync(alice.Recipient, bob.Recipient);
        Assert.That(await DecryptAsync(storedStanzas, payload, bob), Has.Length.EqualTo(150_000), "Bob can read before removal");

        storedStanzas.RemoveAt(1);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(storedStanzas.Select(AgeStanza.Parse).Any(s => X25519Stanza.TryUnwrap(s, bob, out _)), Is.False);
            Assert.That(
                () => AgeFile.OpenDecryptStream(new MemoryStream(ReassembleWithoutKnowingTheKey(storedStanzas, payload)), bob),
                Throws.TypeOf<AgeDecryptionException>().With.Property(nameof(AgeDecryptionException.Failure)).EqualTo(AgeDecryptionFailure.NoMatchingIdentity));
            Assert.That(await DecryptAsync(storedStanzas, payload, alice), Has.Length.EqualTo(150_000), "Alice still can");
        }
    }

    [Test]
    public void StanzaText_RoundTrips_IncludingAFullLastBodyLine()
    {
        // 48 bytes fill exactly one 64-column line, so an empty line must follow (age v1, "Header").
        var stanza = new AgeStanza("test", ["a", "b"], Enumerable.Range(0, 48).Select(i => (byte)i).ToArray());

        var text = stanza.ToString();
        var parsed = AgeStanza.Parse(stanza.ToBytes());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(text, Does.EndWith("\n\n"));
            Assert.That(parsed.Type, Is.EqualTo("test"));
            Assert.That(parsed.Args, Is.EqualTo(new[] { "a", "b" }));
            Assert.That(parsed.Body.ToArray(), Is.EqualTo(stanza.Body.ToArray()));
            Assert.That(() => AgeStanza.Parse(text.TrimEnd('\n') + "\n"), Throws.TypeOf<AgeFormatException>());
        }
    }

    private static async Task<(List<string> Stanzas, byte[] Payload)> EncryptForAsync(params AgeRecipient[] recipients)
    {
        using var fileKey = AgeFileKey.Generate();
        using var payload = new MemoryStream();
        await AgePayload.EncryptAsync(fileKey, new GeneratedStream(150_000), payload);
        return ([.. recipients.Select(r => X25519Stanza.Wrap(fileKey, r).ToString())], payload.ToArray());
    }

    private static async Task<byte[]> DecryptAsync(IEnumerable<string> storedStanzas, byte[] payload, AgeIdentity identity)
    {
        foreach (var text in storedStanzas)
        {
            if (X25519Stanza.TryUnwrap(AgeStanza.Parse(text), identity, out var fileKey))
            {
                using (fileKey)
                {
                    await using var plaintext = AgePayload.OpenDecryptStream(fileKey!, new MemoryStream(payload));
                    return await ReadAllAsync(plaintext);
                }
            }
        }

        throw new AgeDecryptionException(AgeDecryptionFailure.NoMatchingIdentity, "no stanza for this identity");
    }

    private static byte[] ReassembleWithoutKnowingTheKey(IEnumerable<string> stanzas, byte[] payload)
    {
        // Whoever lacks the file key cannot compute a valid MAC; a random key stands in for it here.
        using var anyKey = AgeFileKey.Generate();
        return [.. AgeHeader.Write([.. stanzas.Select(AgeStanza.Parse)], anyKey), .. payload];
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
