using Microsoft.Extensions.Options;
using SecureMailbox.Vault;

namespace SecureMailbox.Portal.Security;

/// <summary>
/// How the portal's cookies are named and flagged. In production (an https base URL) every cookie is
/// <c>__Host-</c>-prefixed and Secure. The only exception is the default one-machine set-up, where Portal:BaseUrl is
/// plain http on a loopback host: browsers drop <c>__Host-</c>/Secure cookies over plain http on 127.0.0.1, so there
/// the cookies lose the prefix and the Secure flag, and <see cref="LoopbackOnlyMiddleware"/> refuses every request
/// that does not come from this machine. The decision is made once, from configuration, never from a request.
/// </summary>
public sealed class CookiePolicy(IOptions<PortalOptions> portal)
{
    /// <summary>True when the portal runs on plain http on loopback (the two-command set-up).</summary>
    public bool PlainHttpLoopback { get; } =
        Uri.TryCreate(portal.Value.BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback;

    public string Prefix => PlainHttpLoopback ? "smbx-" : "__Host-smbx-";

    public string SessionCookie => Prefix + "session";

    public string PreSessionCookie => Prefix + "link";

    public string AntiforgeryCookie => Prefix + "af";

    public string LanguageCookie => Prefix + "lang";

    public CookieSecurePolicy SecurePolicy => PlainHttpLoopback ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;

    /// <summary>Options for a cookie the portal writes itself (session, pre-session, language).</summary>
    public CookieOptions Options(HttpContext context, DateTimeOffset? expires = null, SameSiteMode sameSite = SameSiteMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new CookieOptions
        {
            HttpOnly = true,
            Secure = !PlainHttpLoopback || context.Request.IsHttps,
            SameSite = sameSite,
            Path = "/",
            Expires = expires,
            IsEssential = true,
        };
    }
}

/// <summary>In the plain-http loopback set-up, only this machine may talk to the portal.</summary>
public sealed class LoopbackOnlyMiddleware(RequestDelegate next, CookiePolicy cookies)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var remote = context.Connection.RemoteIpAddress;
        if (cookies.PlainHttpLoopback && !context.Request.IsHttps && remote is not null && !System.Net.IPAddress.IsLoopback(remote))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }
        return next(context);
    }
}
