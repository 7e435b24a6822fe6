using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Vault;

/// <summary>
/// Configuration section <c>Portal</c>, shared by both services: the one fixed address links point to
/// (docs/rules.md E5/E6: never taken from a request's Host header).
/// </summary>
public sealed class PortalOptions : IValidatableObject
{
    public const string Section = "Portal";

    /// <summary>The portal's public base URL (https; plain http only for localhost).</summary>
    [Required]
    public string BaseUrl { get; set; } = "http://localhost:5000";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            yield return new ValidationResult($"Portal:BaseUrl '{BaseUrl}' must be an absolute https URL (http only for localhost) without query.", [nameof(BaseUrl)]);
        }
    }

    /// <summary>An absolute URL on the portal.</summary>
    public string UrlFor(string relativePath) => BaseUrl.TrimEnd('/') + "/" + relativePath.TrimStart('/');
}

/// <summary>Configuration section <c>SecureDelivery</c>: notifications and links.</summary>
public sealed class SecureDeliveryOptions
{
    public const string Section = "SecureDelivery";

    /// <summary>The address notifications come from.</summary>
    [Required]
    [EmailAddress]
    public string NotificationFrom { get; set; } = "no-reply@securemailbox.localhost";

    /// <summary>The display name notifications come from.</summary>
    [Required]
    public string NotificationFromName { get; set; } = "SecureMailbox";

    /// <summary>How long a notification link for a new recipient stays valid.</summary>
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromDays(30);
}
