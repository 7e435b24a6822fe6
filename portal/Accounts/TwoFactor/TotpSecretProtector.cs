using System.Security.Cryptography;
using SecureMailbox.Portal.Security;

namespace SecureMailbox.Portal.Accounts.TwoFactor;

/// <summary>
/// Encrypts TOTP secrets at rest (AES-256-GCM, key derived from the portal's server secret, the account id as
/// associated data so a row cannot be moved to another account). The account's own key cannot be used: the secret
/// must be readable at sign-in, before the second factor has unlocked anything. The server secret lives in the data
/// folder, not in the database, so a copy of the database alone does not give away the secrets. A TOTP secret is
/// an authentication factor, never a mail key, so the server being able to read it does not open mail.
/// </summary>
public sealed class TotpSecretProtector(ServerSecret serverSecret)
{
    private const int NonceLength = 12;
    private const int TagLength = 16;

    private byte[] Key => serverSecret.Derive("totp-secret-v1");

    public byte[] Protect(Guid accountId, byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var output = new byte[NonceLength + TagLength + secret.Length];
        var nonce = output.AsSpan(0, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Key, TagLength);
        aes.Encrypt(nonce, secret, output.AsSpan(NonceLength + TagLength), output.AsSpan(NonceLength, TagLength), accountId.ToByteArray());
        return output;
    }

    public byte[] Unprotect(Guid accountId, byte[] blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (blob.Length <= NonceLength + TagLength)
        {
            throw new CryptographicException("TOTP secret blob too short.");
        }
        var secret = new byte[blob.Length - NonceLength - TagLength];
        using var aes = new AesGcm(Key, TagLength);
        aes.Decrypt(blob.AsSpan(0, NonceLength), blob.AsSpan(NonceLength + TagLength), blob.AsSpan(NonceLength, TagLength), secret, accountId.ToByteArray());
        return secret;
    }
}
