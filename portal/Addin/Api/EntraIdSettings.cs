namespace SecureMailbox.Portal.Addin.Api;

/// <summary>
/// The <c>AzureAd</c> section as Microsoft.Identity.Web reads it, bound again here only so that a
/// bad value stops the portal at start with the setting's name instead of failing the first request.
/// </summary>
public sealed class EntraIdSettings
{
    public const string SectionName = "AzureAd";

    /// <summary>Required; e.g. <c>https://login.microsoftonline.com/</c>.</summary>
    public string Instance { get; set; } = "";

    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public List<EntraIdCertificate> ClientCertificates { get; set; } = [];

    public string? Audience { get; set; }

    /// <summary>Whether the section is present at all: without it the add-in API is off.</summary>
    public static bool IsConfigured(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection(SectionName).Exists();
    }
}

/// <summary>One entry of <c>AzureAd:ClientCertificates</c>; only whether it names a source is checked here.</summary>
public sealed class EntraIdCertificate
{
    public string? SourceType { get; set; }
}
