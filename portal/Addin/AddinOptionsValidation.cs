using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Addin;

/// <summary>Stops the portal at start when the add-in settings are unusable, naming the setting.</summary>
public sealed partial class AddinOptionsValidation : IValidateOptions<AddinOptions>
{
    public ValidateOptionsResult Validate(string? name, AddinOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string Section = AddinOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.WebRoot))
        {
            failures.Add($"{Section}:WebRoot is not set and <content root>/../addin/web does not exist.");
        }
        else if (!File.Exists(Path.Combine(options.WebRoot, "taskpane.html")))
        {
            failures.Add($"{Section}:WebRoot '{options.WebRoot}' has no taskpane.html.");
        }

        if (string.IsNullOrWhiteSpace(options.ManifestPath) || !File.Exists(options.ManifestPath))
        {
            failures.Add($"{Section}:ManifestPath '{options.ManifestPath}' does not exist.");
        }

        if (options.OrganisationDomains is not { Length: > 0 })
        {
            failures.Add($"{Section}:OrganisationDomains must list at least one domain.");
        }
        else
        {
            foreach (var domain in options.OrganisationDomains)
            {
                if (domain is null || !DomainPattern().IsMatch(domain))
                {
                    failures.Add($"{Section}:OrganisationDomains has an invalid domain '{domain}'.");
                }
            }
        }

        if (string.IsNullOrWhiteSpace(options.SubjectKeyword) || options.SubjectKeyword.Any(char.IsControl))
        {
            failures.Add($"{Section}:SubjectKeyword must be a non-empty single line.");
        }

        if (options.DefaultCountry is null || !CountryPattern().IsMatch(options.DefaultCountry))
        {
            failures.Add($"{Section}:DefaultCountry must be a two-letter country code such as SE.");
        }

        if (!TryParseBaseUrl(options.PortalBaseUrl, out _))
        {
            failures.Add($"{Section}:PortalBaseUrl '{options.PortalBaseUrl}' must be an absolute https URL (http only for localhost) without query or fragment, e.g. https://securemailbox.example.se.");
        }

        if (!string.IsNullOrWhiteSpace(options.GatewayRecipient) && AddinGatewayKey.Canonical(options.GatewayRecipient) is null)
        {
            failures.Add($"{Section}:GatewayRecipient must be the gateway's age public key (age1…), as in the gateway's addin-header.key.pub.");
        }

        foreach (var keyword in options.OtherSubjectKeywords)
        {
            if (string.IsNullOrWhiteSpace(keyword) || keyword.Any(char.IsControl))
            {
                failures.Add($"{Section}:OtherSubjectKeywords entries must be non-empty single lines.");
            }
        }

        if (options.GraphLookup)
        {
            if (string.IsNullOrWhiteSpace(options.SignInClientId) || !options.SignInClientId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                failures.Add($"{Section}:SignInClientId must be the task pane's application (client) ID when {Section}:GraphLookup is on.");
            }

            if (!Uri.TryCreate(options.SignInAuthority, UriKind.Absolute, out var authority) || authority.Scheme != Uri.UriSchemeHttps
                || authority.Query.Length > 0 || authority.Fragment.Length > 0 || authority.UserInfo.Length > 0)
            {
                failures.Add($"{Section}:SignInAuthority must be an https authority such as https://login.microsoftonline.com/<tenant id> when {Section}:GraphLookup is on.");
            }

            if (string.IsNullOrWhiteSpace(options.ApiScope) || options.ApiScope.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                failures.Add($"{Section}:ApiScope must be one scope such as api://<portal client id>/access_as_user when {Section}:GraphLookup is on.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// Outlook loads add-in pages over https only; the manifest needs a plain origin (and optional path).
    /// Plain http is accepted for a loopback host only, for the one-machine development set-up.
    /// </summary>
    public static bool TryParseBaseUrl(string? value, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var parsed))
        {
            return false;
        }

        var secure = parsed.Scheme == Uri.UriSchemeHttps || (parsed.Scheme == Uri.UriSchemeHttp && parsed.IsLoopback);
        if (!secure || parsed.Query.Length > 0 || parsed.Fragment.Length > 0
            || parsed.UserInfo.Length > 0 || value.Any(c => char.IsWhiteSpace(c) || c is '"' or '<' or '>' or '\''))
        {
            return false;
        }

        uri = parsed;
        return true;
    }

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DomainPattern();

    [GeneratedRegex("^[A-Za-z]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex CountryPattern();
}
