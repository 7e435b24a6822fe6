using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>Bech32 encodings of identities and recipients (age v1, "The X25519 recipient type").</summary>
[TestFixture]
public sealed class AgeKeyTests
{
    // From the CCTV vector "x25519".
    private const string VectorIdentity = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

    [Test]
    public void Parse_VectorIdentity_RoundTrips()
    {
        using var identity = AgeIdentity.Parse(VectorIdentity);
        var recipient = identity.Recipient.ToString();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(identity.ToString(), Is.EqualTo(VectorIdentity));
            Assert.That(recipient, Does.StartWith("age1"));
            Assert.That(AgeRecipient.Parse(recipient), Is.EqualTo(identity.Recipient));
        }
    }

    [Test]
    public void FromPrivateKey_ExportedKey_SameIdentity()
    {
        using var identity = AgeIdentity.Generate();
        var raw = identity.ExportPrivateKey();

        using var copy = AgeIdentity.FromPrivateKey(raw);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(raw, Has.Length.EqualTo(32));
            Assert.That(copy.ToString(), Is.EqualTo(identity.ToString()));
            Assert.That(AgeRecipient.FromPublicKey(identity.Recipient.PublicKey), Is.EqualTo(identity.Recipient));
        }
    }

    [Test]
    public void Parse_LowerCaseIdentity_Refused()
    {
        Assert.That(() => AgeIdentity.Parse(VectorIdentity.ToLowerInvariant()), Throws.TypeOf<AgeFormatException>());
    }

    [Test]
    public void Parse_MixedCase_Refused()
    {
        Assert.That(() => AgeIdentity.Parse(VectorIdentity[..20] + VectorIdentity[20..].ToLowerInvariant()), Throws.TypeOf<AgeFormatException>());
    }

    [Test]
    public void Parse_UpperCaseRecipient_Refused()
    {
        using var identity = AgeIdentity.Parse(VectorIdentity);

        Assert.That(() => AgeRecipient.Parse(identity.Recipient.ToString().ToUpperInvariant()), Throws.TypeOf<AgeFormatException>());
    }

    [Test]
    public void Parse_ChecksumCharacterChanged_Refused()
    {
        var broken = VectorIdentity[..^1] + (VectorIdentity[^1] == '0' ? 'Q' : '0');

        Assert.That(() => AgeIdentity.Parse(broken), Throws.TypeOf<AgeFormatException>());
    }

    [Test]
    public void Parse_IdentityGivenAsRecipient_Refused()
    {
        Assert.That(() => AgeRecipient.Parse(VectorIdentity), Throws.TypeOf<AgeFormatException>());
    }

    [Test]
    public void Wrap_LowOrderRecipient_Refused()
    {
        using var fileKey = AgeFileKey.Generate();
        var zeroPoint = AgeRecipient.FromPublicKey(new byte[32]);

        Assert.That(() => X25519Stanza.Wrap(fileKey, zeroPoint), Throws.TypeOf<AgeFormatException>());
    }

    [Test]
    public void FileKey_Disposed_CannotBeUsed()
    {
        var fileKey = AgeFileKey.Generate();
        fileKey.Dispose();
        using var identity = AgeIdentity.Generate();

        Assert.That(() => X25519Stanza.Wrap(fileKey, identity.Recipient), Throws.TypeOf<ObjectDisposedException>());
    }
}
