using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>Private keys wrapped under passwords, backup codes and 32-byte secrets (docs/rules.md properties 2, 5, 6).</summary>
[TestFixture]
public sealed class PrivateKeyWrapTests
{
    private const string KeyId = "account-7f3a";
    private const string Password = "korrekt häst batteri häftklammer";

    private AgeIdentity _identity = null!;
    private byte[] _passwordBlob = [];

    [OneTimeSetUp]
    public void WrapOnce()
    {
        _identity = AgeIdentity.Generate();
        _passwordBlob = PrivateKeyWrap.WrapWithPassword(_identity, Password, KeyWrapPurpose.Password, KeyId);
    }

    [OneTimeTearDown]
    public void DisposeIdentity() => _identity.Dispose();

    [Test]
    public void Argon2id_Rfc9106TestVector_MatchesTag()
    {
        // RFC 9106, section 5.3 (Argon2id test vector).
        var tag = PrivateKeyWrap.Argon2id(
            Enumerable.Repeat((byte)0x01, 32).ToArray(),
            Enumerable.Repeat((byte)0x02, 16).ToArray(),
            new Argon2idParameters(32, 3, 4),
            32,
            secret: Enumerable.Repeat((byte)0x03, 8).ToArray(),
            associatedData: Enumerable.Repeat((byte)0x04, 12).ToArray());

        Assert.That(Convert.ToHexStringLower(tag), Is.EqualTo("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"));
    }

    [Test]
    public void UnwrapWithPassword_RightPassword_ReturnsSameIdentity()
    {
        using var unwrapped = PrivateKeyWrap.UnwrapIdentityWithPassword(_passwordBlob, Password, KeyWrapPurpose.Password, KeyId);

        Assert.That(unwrapped.ToString(), Is.EqualTo(_identity.ToString()));
    }

    [Test]
    public void UnwrapWithPassword_DecomposedUnicodeOfSamePassword_Succeeds()
    {
        var decomposed = Password.Normalize(System.Text.NormalizationForm.FormD);
        Assert.That(decomposed, Is.Not.EqualTo(Password), "the test password must have a decomposable character");

        using var unwrapped = PrivateKeyWrap.UnwrapIdentityWithPassword(_passwordBlob, decomposed, KeyWrapPurpose.Password, KeyId);

        Assert.That(unwrapped.Recipient, Is.EqualTo(_identity.Recipient));
    }

    [Test]
    public void UnwrapWithPassword_WrongPassword_Throws()
    {
        Assert.That(
            () => PrivateKeyWrap.UnwrapWithPassword(_passwordBlob, Password + "!", KeyWrapPurpose.Password, KeyId),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [Test]
    public void UnwrapWithPassword_OtherPurpose_Throws()
    {
        Assert.That(
            () => PrivateKeyWrap.UnwrapWithPassword(_passwordBlob, Password, KeyWrapPurpose.BackupCode, KeyId),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [Test]
    public void UnwrapWithPassword_PurposeByteRewritten_Throws()
    {
        // Relabelling the stored purpose must not help: it is part of the associated data.
        var blob = (byte[])_passwordBlob.Clone();
        blob[5] = (byte)KeyWrapPurpose.BackupCode;

        Assert.That(
            () => PrivateKeyWrap.UnwrapWithPassword(blob, Password, KeyWrapPurpose.BackupCode, KeyId),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [Test]
    public void UnwrapWithPassword_OtherKeyId_Throws()
    {
        Assert.That(
            () => PrivateKeyWrap.UnwrapWithPassword(_passwordBlob, Password, KeyWrapPurpose.Password, "account-other"),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [TestCase(8, Description = "memory parameter")]
    [TestCase(20, Description = "salt")]
    [TestCase(36, Description = "nonce")]
    [TestCase(50, Description = "encrypted key")]
    [TestCase(-1, Description = "tag")]
    public void UnwrapWithPassword_ByteFlipped_Throws(int index)
    {
        var blob = (byte[])_passwordBlob.Clone();
        blob[index < 0 ? blob.Length + index : index] ^= 0x01;

        Assert.That(
            () => PrivateKeyWrap.UnwrapWithPassword(blob, Password, KeyWrapPurpose.Password, KeyId),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [Test]
    public void UnwrapWithPassword_Truncated_Throws()
    {
        Assert.That(
            () => PrivateKeyWrap.UnwrapWithPassword(_passwordBlob.AsSpan(0, _passwordBlob.Length - 1), Password, KeyWrapPurpose.Password, KeyId),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [Test]
    public void Describe_DefaultWrap_StoresAtLeastOwaspMinimum()
    {
        var info = PrivateKeyWrap.Describe(_passwordBlob);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(info.Purpose, Is.EqualTo(KeyWrapPurpose.Password));
            Assert.That(info.Argon2id, Is.Not.Null);
            Assert.That(info.Argon2id!.MemoryKiB, Is.GreaterThanOrEqualTo(19 * 1024));
            Assert.That(info.Argon2id.Iterations, Is.GreaterThanOrEqualTo(2));
            Assert.That(info.Argon2id.Parallelism, Is.GreaterThanOrEqualTo(1));
        }
    }

    [Test]
    public void UnwrapWithPassword_RaisedParameters_StoredAndHonoured()
    {
        var raised = new Argon2idParameters(24 * 1024, 3, 1);
        var blob = PrivateKeyWrap.WrapWithPassword(_identity, "backup-code-1234", KeyWrapPurpose.BackupCode, KeyId, raised);

        var info = PrivateKeyWrap.Describe(blob);
        using var unwrapped = PrivateKeyWrap.UnwrapIdentityWithPassword(blob, "backup-code-1234", KeyWrapPurpose.BackupCode, KeyId);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(info.Argon2id, Is.EqualTo(raised));
            Assert.That(info.Argon2id!.IsWeakerThan(Argon2idParameters.Default), Is.False);
            Assert.That(Argon2idParameters.Default.IsWeakerThan(raised), Is.True);
            Assert.That(unwrapped.Recipient, Is.EqualTo(_identity.Recipient));
        }
    }

    [Test]
    public void WrapWithPassword_BelowMinimum_Refused()
    {
        Assert.That(
            () => PrivateKeyWrap.WrapWithPassword(_identity, Password, KeyWrapPurpose.Password, KeyId, new Argon2idParameters(19 * 1024, 1, 1)),
            Throws.ArgumentException);
    }

    [Test]
    public void UnwrapWithPassword_StoredParametersLoweredBelowMinimum_Throws()
    {
        var blob = (byte[])_passwordBlob.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(blob.AsSpan(7), 64);

        Assert.That(
            () => PrivateKeyWrap.UnwrapWithPassword(blob, Password, KeyWrapPurpose.Password, KeyId),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [Test]
    public void UnwrapWithSecret_RoundTripAndWrongSecretAndOtherPurpose()
    {
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var blob = PrivateKeyWrap.WrapWithSecret(_identity, secret, KeyWrapPurpose.LinkSecret, KeyId);
        var otherSecret = (byte[])secret.Clone();
        otherSecret[0] ^= 1;

        using var unwrapped = PrivateKeyWrap.UnwrapIdentityWithSecret(blob, secret, KeyWrapPurpose.LinkSecret, KeyId);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(unwrapped.ToString(), Is.EqualTo(_identity.ToString()));
            Assert.That(PrivateKeyWrap.Describe(blob).Argon2id, Is.Null);
            Assert.That(() => PrivateKeyWrap.UnwrapWithSecret(blob, otherSecret, KeyWrapPurpose.LinkSecret, KeyId), Throws.TypeOf<KeyUnwrapException>());
            Assert.That(() => PrivateKeyWrap.UnwrapWithSecret(blob, secret, KeyWrapPurpose.SessionKey, KeyId), Throws.TypeOf<KeyUnwrapException>());
            Assert.That(() => PrivateKeyWrap.UnwrapWithSecret(blob, secret, KeyWrapPurpose.LinkSecret, "account-other"), Throws.TypeOf<KeyUnwrapException>());
        }
    }

    [Test]
    public void UnwrapWithSecret_PasswordBlob_Throws()
    {
        Assert.That(
            () => PrivateKeyWrap.UnwrapWithSecret(_passwordBlob, new byte[32], KeyWrapPurpose.SessionKey, KeyId),
            Throws.TypeOf<KeyUnwrapException>());
    }

    [Test]
    public void WrapWithPassword_TwiceSamePassword_DifferentBlobs()
    {
        var again = PrivateKeyWrap.WrapWithPassword(_identity, Password, KeyWrapPurpose.Password, KeyId);

        Assert.That(again, Is.Not.EqualTo(_passwordBlob), "fresh salt and nonce each time");
    }
}
