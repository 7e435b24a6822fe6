namespace SecureMailbox.Portal.Security;

/// <summary>Return URLs are local paths only (docs/rules.md E4): no scheme, no host, no <c>//</c> or <c>/\</c>.</summary>
public static class LocalReturnUrl
{
    public static string Or(string? url, string fallback)
    {
        if (string.IsNullOrEmpty(url) || url.Length > 512 || url[0] != '/' || url.Any(char.IsControl))
        {
            return fallback;
        }
        if (url.Length > 1 && (url[1] == '/' || url[1] == '\\'))
        {
            return fallback;
        }
        return url;
    }
}
