using System.Text;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>Writing and reading the age header on its own.</summary>
[TestFixture]
public sealed class AgeHeaderTests
{
    [Test]
    public void Parse_WrittenHeaderFollowedByPayload_StopsAtPayload()
    {
        using var identity = AgeIdentity.Generate();
        using var fileKey = AgeFileKey.Generate();
        var header = AgeHeader.Write([X25519Stanza.Wrap(fileKey, identity.Recipient)], fileKey);
        using var input = new MemoryStream([.. header, .. "PAYLOAD"u8.ToArray()]);

        var parsed = AgeHeader.Parse(input);
        using var unwrapped = parsed.UnwrapFileKey(identity);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(input.Position, Is.EqualTo(header.Length));
            Assert.That(parsed.Stanzas, Has.Count.EqualTo(1));
            Assert.That(parsed.VerifyMac(fileKey), Is.True);
            Assert.That(unwrapped.Span.ToArray(), Is.EqualTo(fileKey.Span.ToArray()));
        }
    }

    [Test]
    public async Task ParseAsync_WrittenHeader_StopsAtPayload()
    {
        using var identity = AgeIdentity.Generate();
        using var fileKey = AgeFileKey.Generate();
        var header = AgeHeader.Write([X25519Stanza.Wrap(fileKey, identity.Recipient)], fileKey);
        using var input = new MemoryStream([.. header, 1, 2, 3]);

        await AgeHeader.ParseAsync(input);

        Assert.That(input.Position, Is.EqualTo(header.Length));
    }

    [Test]
    public void Parse_MoreStanzasThanTheCap_RefusedBeforeUnwrapping()
    {
        var text = new StringBuilder("age-encryption.org/v1\n");
        for (var i = 0; i <= AgeHeader.MaxStanzas; i++)
        {
            text.Append("-> X25519 AAAA\n\n");
        }

        text.Append("--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");

        Assert.That(() => AgeHeader.Parse(new MemoryStream(Encoding.ASCII.GetBytes(text.ToString()))), Throws.TypeOf<AgeFormatException>());
    }

    [Test]
    public void Parse_TruncatedHeader_Refused()
    {
        using var fileKey = AgeFileKey.Generate();
        using var identity = AgeIdentity.Generate();
        var header = AgeHeader.Write([X25519Stanza.Wrap(fileKey, identity.Recipient)], fileKey);

        Assert.That(() => AgeHeader.Parse(new MemoryStream(header[..^1])), Throws.TypeOf<AgeFormatException>());
    }
}
