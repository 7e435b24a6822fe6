using System.Net;
using System.Net.Sockets;

namespace SecureMailbox.Portal.Accounts.Security;

/// <summary>
/// What the Security page shows about where a session or event came from: the browser and system named from the
/// User-Agent, and the network rather than the address (IPv4 /24, IPv6 /48), which is enough to recognise
/// "that was me" and keeps less personal data than the address itself.
/// </summary>
public static class ClientDescription
{
    public static string Device(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Device(context.Request.Headers.UserAgent.ToString());
    }

    public static string Device(string? userAgent)
    {
        var ua = userAgent ?? "";
        if (ua.Length > 1024)
        {
            ua = ua[..1024];
        }
        var browser =
            ua.Contains("Edg/", StringComparison.Ordinal) ? "Edge" :
            ua.Contains("OPR/", StringComparison.Ordinal) ? "Opera" :
            ua.Contains("Firefox/", StringComparison.Ordinal) ? "Firefox" :
            ua.Contains("Chrome/", StringComparison.Ordinal) || ua.Contains("Chromium/", StringComparison.Ordinal) ? "Chrome" :
            ua.Contains("Safari/", StringComparison.Ordinal) ? "Safari" :
            null;
        var system =
            ua.Contains("Android", StringComparison.Ordinal) ? "Android" :
            ua.Contains("iPhone", StringComparison.Ordinal) || ua.Contains("iPad", StringComparison.Ordinal) ? "iOS" :
            ua.Contains("Windows", StringComparison.Ordinal) ? "Windows" :
            ua.Contains("Mac OS X", StringComparison.Ordinal) || ua.Contains("Macintosh", StringComparison.Ordinal) ? "macOS" :
            ua.Contains("CrOS", StringComparison.Ordinal) ? "ChromeOS" :
            ua.Contains("Linux", StringComparison.Ordinal) ? "Linux" :
            null;
        return (browser, system) switch
        {
            (null, null) => "?",
            (null, _) => system!,
            (_, null) => browser,
            _ => browser + " · " + system,
        };
    }

    public static string Network(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Network(context.Connection.RemoteIpAddress);
    }

    public static string Network(IPAddress? address)
    {
        if (address is null)
        {
            return "?";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes[3] = 0;
            return new IPAddress(bytes) + "/24";
        }
        for (var i = 6; i < bytes.Length; i++)
        {
            bytes[i] = 0;
        }
        return new IPAddress(bytes) + "/48";
    }
}
