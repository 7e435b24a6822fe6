using System.Security;

namespace SecureMailbox.Portal.Addin;

/// <summary>The repository's manifest.xml with its placeholder host replaced by the portal's base URL.</summary>
public static class AddinManifest
{
    /// <summary>The host every URL in manifest.xml is written with.</summary>
    public const string PlaceholderBaseUrl = "https://localhost:5001";

    public static string Rewrite(string manifestXml, string portalBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(manifestXml);
        if (!AddinOptionsValidation.TryParseBaseUrl(portalBaseUrl, out _))
        {
            throw new ArgumentException("The portal base URL must be an absolute https URL.", nameof(portalBaseUrl));
        }

        // The URL lands in XML attribute values and text: escape it even though validation refuses quotes.
        var baseUrl = SecurityElement.Escape(portalBaseUrl.TrimEnd('/'));
        return manifestXml.Replace(PlaceholderBaseUrl, baseUrl, StringComparison.Ordinal);
    }
}
