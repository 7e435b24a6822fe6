using System.Security.Cryptography;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;

namespace SecureMailbox.Portal.Sessions;

/// <summary>
/// A cookie value <c>id.key</c>: two independent 256-bit random values, base64url. The server stores
/// SHA-256(id) and a blob wrapped under the key; the key itself is never stored.
/// </summary>
public sealed record CookieSecret(byte[] Id, byte[] Key)
{
    public static CookieSecret New() => new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

    /// <summary>The row id for the cookie: hex SHA-256 of the id part.</summary>
    public string RowId => Convert.ToHexStringLower(SHA256.HashData(Id));

    public override string ToString() => Base64Url(Id) + "." + Base64Url(Key);

    /// <summary>
    /// Wraps a private key under this cookie's key, bound to <paramref name="context"/> (what the blob is for, e.g.
    /// <c>session:&lt;row id&gt;</c>): the row that stores the blob opens nothing without the cookie.
    /// </summary>
    public byte[] Wrap(AgeIdentity key, string context) => PrivateKeyWrap.WrapWithSecret(key, Key, KeyWrapPurpose.SessionKey, context);

    /// <summary>The key wrapped by <see cref="Wrap"/>, or null when there is none or this cookie does not open it (tampered, another row).</summary>
    public AgeIdentity? TryUnwrap(byte[]? wrapped, string context)
    {
        if (wrapped is null)
        {
            return null;
        }
        try
        {
            return PrivateKeyWrap.UnwrapIdentityWithSecret(wrapped, Key, KeyWrapPurpose.SessionKey, context);
        }
        catch (KeyUnwrapException)
        {
            return null;
        }
    }

    public static CookieSecret? Parse(string? value)
    {
        if (value is null || value.Length != 87 || value[43] != '.')
        {
            return null;
        }
        var id = FromBase64Url(value[..43]);
        var key = FromBase64Url(value[44..]);
        return id is { Length: 32 } && key is { Length: 32 } ? new CookieSecret(id, key) : null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        if (!text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return null;
        }
        try
        {
            return Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/') + "=");
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
