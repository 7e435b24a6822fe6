using System.Security.Cryptography;
using System.Text;

namespace SecureMailbox.Vault.Messages;

/// <summary>
/// Link tokens: 256 random bits, base64url in the link. The database stores only a hash (for look-up); the key that
/// wraps a pending reader's private key is derived from the token separately, so the stored hash reveals nothing.
/// </summary>
public static class LinkTokens
{
    private const int TokenBytes = 32;

    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(TokenBytes));

    /// <summary>The look-up hash of a token, or null when the text is not a well-formed token.</summary>
    public static byte[]? Hash(string? token)
    {
        var raw = Decode(token);
        if (raw is null)
        {
            return null;
        }
        return SHA256.HashData([.. "smbx-link-lookup-v1:"u8, .. raw]);
    }

    /// <summary>
    /// The 32-byte secret that wraps the link key: derived from the token and the server-held secret together, so that
    /// neither the notification nor a copy of the server's data alone gives it.
    /// </summary>
    public static byte[] Secret(string token, LinkKeySecret serverSecret)
    {
        ArgumentNullException.ThrowIfNull(serverSecret);
        var raw = Decode(token) ?? throw new ArgumentException("Not a link token.", nameof(token));
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 32, salt: serverSecret.Value.ToArray(), info: Encoding.ASCII.GetBytes("smbx-link-key-v2"));
    }

    /// <summary>
    /// The token-only secret of links made before the server-held secret existed; such a link is re-wrapped under
    /// <see cref="Secret(string, LinkKeySecret)"/> the first time its token is used.
    /// </summary>
    internal static byte[] LegacySecret(string token)
    {
        var raw = Decode(token) ?? throw new ArgumentException("Not a link token.", nameof(token));
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 32, salt: [], info: Encoding.ASCII.GetBytes("smbx-link-key-v1"));
    }

    private static byte[]? Decode(string? token)
    {
        if (token is null || token.Length != 43 || !token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return null;
        }
        var base64 = token.Replace('-', '+').Replace('_', '/') + "=";
        try
        {
            var raw = Convert.FromBase64String(base64);
            return raw.Length == TokenBytes ? raw : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
