using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using SecureMailbox.Portal.Sessions;

namespace SecureMailbox.Portal.Security;

/// <summary>
/// Binds every anti-forgery token to the session it was issued in (docs/rules.md A14): the token carries a digest of the
/// session cookie's id, and a form token from one session is refused in another, even in the same browser. A form
/// issued without a session validates only without one, except on the pages that start one (sign-in, registration,
/// links), which act on no session.
/// </summary>
public sealed class SessionBoundAntiforgery(CookiePolicy cookies) : IAntiforgeryAdditionalDataProvider
{
    public string GetAdditionalData(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SessionDigest(context);
    }

    public bool ValidateAdditionalData(HttpContext context, string additionalData)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(additionalData) && IsEntryPage(context.Request.Path))
        {
            // A form from before signing in (another tab, the back button) may still start a new sign-in or
            // registration: it acts on no session.
            return true;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(additionalData ?? ""), Encoding.ASCII.GetBytes(SessionDigest(context)));
    }

    private static bool IsEntryPage(PathString path) =>
        path.StartsWithSegments("/signin", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/register", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/l", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/verify", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/welcome", StringComparison.OrdinalIgnoreCase);

    private string SessionDigest(HttpContext context)
    {
        var secret = CookieSecret.Parse(context.Request.Cookies[cookies.SessionCookie]);
        return secret is null ? "" : Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("antiforgery:" + secret.RowId)))[..32];
    }
}
