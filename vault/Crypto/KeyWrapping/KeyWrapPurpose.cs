namespace SecureMailbox.Vault.Crypto.KeyWrapping;

/// <summary>
/// What a wrapped private key is wrapped under. Part of the authenticated data of every wrapped key, so a
/// blob made for one purpose cannot be presented as another (docs/rules.md properties 2, 5, 6).
/// </summary>
public enum KeyWrapPurpose : byte
{
    /// <summary>The account password (Argon2id).</summary>
    Password = 1,

    /// <summary>One printed backup code (Argon2id).</summary>
    BackupCode = 2,

    /// <summary>The secret in a new recipient's notification link (32 random bytes, HKDF).</summary>
    LinkSecret = 3,

    /// <summary>The random key kept only in the user's session cookie (32 random bytes, HKDF).</summary>
    SessionKey = 4,

    /// <summary>An organisation's recovery secret (32 random bytes, HKDF).</summary>
    RecoveryKey = 5,
}
