namespace SecureMailbox.Vault.Crypto;

/// <summary>An age X25519 recipient: a public key, written as <c>age1…</c> (Bech32, lower case).</summary>
public sealed class AgeRecipient : IEquatable<AgeRecipient>
{
    private const string Hrp = "age";

    private readonly byte[] _publicKey;

    private AgeRecipient(byte[] publicKey) => _publicKey = publicKey;

    /// <summary>The 32-byte X25519 public key.</summary>
    public ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>Parses an <c>age1…</c> recipient; throws <see cref="AgeFormatException"/> if it is not one.</summary>
    public static AgeRecipient Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (hrp, data) = Bech32.Decode(text);

        // Recipients are lower case by convention of the age reference implementation; the upper-case form
        // is not an age recipient.
        if (!string.Equals(hrp, Hrp, StringComparison.Ordinal))
        {
            throw new AgeFormatException("Not an age X25519 recipient (expected age1…).");
        }

        return FromPublicKey(data);
    }

    /// <summary>Builds a recipient from a raw 32-byte X25519 public key.</summary>
    public static AgeRecipient FromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != X25519Math.KeyLength)
        {
            throw new AgeFormatException($"An X25519 public key is {X25519Math.KeyLength} bytes.");
        }

        return new AgeRecipient(publicKey.ToArray());
    }

    /// <summary>The <c>age1…</c> form.</summary>
    public override string ToString() => Bech32.Encode(Hrp, _publicKey, upperCase: false);

    public bool Equals(AgeRecipient? other) => other is not null && _publicKey.AsSpan().SequenceEqual(other._publicKey);

    public override bool Equals(object? obj) => Equals(obj as AgeRecipient);

    public override int GetHashCode() => BitConverter.ToInt32(_publicKey, 0);
}
