using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>Stops the portal at start when the <c>AzureAd</c> section is present but unusable, naming the setting.</summary>
public sealed class EntraIdSettingsValidation : IValidateOptions<EntraIdSettings>
{
    public ValidateOptionsResult Validate(string? name, EntraIdSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = EntraIdSettings.SectionName;
        var failures = new List<string>();

        if (!Uri.TryCreate(options.Instance, UriKind.Absolute, out var instance) || instance.Scheme != Uri.UriSchemeHttps
            || instance.Query.Length > 0 || instance.Fragment.Length > 0 || instance.UserInfo.Length > 0)
        {
            failures.Add($"{Section}:Instance '{options.Instance}' must be an absolute https URL such as https://login.microsoftonline.com/.");
        }

        if (string.IsNullOrWhiteSpace(options.TenantId) || !IsPlainSegment(options.TenantId))
        {
            failures.Add($"{Section}:TenantId must be the directory (tenant) ID or a verified domain of the organisation.");
        }
        else if (options.TenantId is "common" or "organizations" or "consumers")
        {
            failures.Add($"{Section}:TenantId must name the organisation's own tenant, not '{options.TenantId}'.");
        }

        if (string.IsNullOrWhiteSpace(options.ClientId) || !IsPlainSegment(options.ClientId))
        {
            failures.Add($"{Section}:ClientId must be the application (client) ID of the portal's app registration.");
        }

        // The on-behalf-of exchange needs a client credential.
        var hasCertificate = options.ClientCertificates.Any(c => !string.IsNullOrWhiteSpace(c.SourceType));
        if (string.IsNullOrWhiteSpace(options.ClientSecret) && !hasCertificate)
        {
            failures.Add($"{Section}:ClientSecret or {Section}:ClientCertificates must be set (the portal calls Graph on behalf of the user).");
        }

        if (options.Audience is not null && (string.IsNullOrWhiteSpace(options.Audience) || options.Audience.Any(char.IsWhiteSpace)))
        {
            failures.Add($"{Section}:Audience must be the API's application ID URI or client ID, e.g. api://securemailbox.example.se/<client id>.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsPlainSegment(string value) =>
        value.Length <= 256 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');
}
