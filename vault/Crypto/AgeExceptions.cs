namespace SecureMailbox.Vault.Crypto;

/// <summary>Base type of every error raised while reading or writing an age file.</summary>
public class AgeException : Exception
{
    public AgeException()
    {
    }

    public AgeException(string message)
        : base(message)
    {
    }

    public AgeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The input is not a well-formed age v1 file (or stanza, recipient, identity): a malformed header line,
/// a non-canonical encoding, an unsupported version, a malformed X25519 stanza, a missing payload nonce.
/// </summary>
public class AgeFormatException : AgeException
{
    public AgeFormatException()
    {
    }

    public AgeFormatException(string message)
        : base(message)
    {
    }

    public AgeFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Why a well-formed age file could not be decrypted.</summary>
public enum AgeDecryptionFailure
{
    /// <summary>Not said (an exception built without a reason).</summary>
    Unspecified,

    /// <summary>No stanza in the header could be unwrapped with the given identity.</summary>
    NoMatchingIdentity,

    /// <summary>A file key was unwrapped but the header MAC does not verify: the header was altered.</summary>
    HeaderMacMismatch,

    /// <summary>The payload failed authentication, is truncated, or has data after its final chunk.</summary>
    PayloadCorrupted,
}

/// <summary>A well-formed age file could not be decrypted; <see cref="Failure"/> says at which step.</summary>
public class AgeDecryptionException : AgeException
{
    public AgeDecryptionException()
    {
    }

    public AgeDecryptionException(string message)
        : base(message)
    {
    }

    public AgeDecryptionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public AgeDecryptionException(AgeDecryptionFailure failure, string message)
        : base(message)
    {
        Failure = failure;
    }

    public AgeDecryptionException(AgeDecryptionFailure failure, string message, Exception innerException)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>The step at which decryption failed.</summary>
    public AgeDecryptionFailure Failure { get; }
}
