using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>Stops the portal at start when the <c>AddinApi</c> settings are unusable, naming the setting.</summary>
public sealed class AddinApiOptionsValidation : IValidateOptions<AddinApiOptions>
{
    public ValidateOptionsResult Validate(string? name, AddinApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = AddinApiOptions.SectionName;
        var failures = new List<string>();

        if (!TryParseGraphBaseUrl(options.GraphBaseUrl, out _))
        {
            failures.Add($"{Section}:GraphBaseUrl '{options.GraphBaseUrl}' must be an absolute https URL (http only for a loopback host), e.g. https://graph.microsoft.com/v1.0.");
        }

        if (string.IsNullOrWhiteSpace(options.RequiredScope) || options.RequiredScope.Any(char.IsWhiteSpace))
        {
            failures.Add($"{Section}:RequiredScope must be one scope name such as access_as_user.");
        }

        if (options.GraphScopes is not { Length: > 0 } || options.GraphScopes.Any(s => string.IsNullOrWhiteSpace(s) || s.Any(char.IsWhiteSpace)))
        {
            failures.Add($"{Section}:GraphScopes must list the delegated Graph permissions, e.g. https://graph.microsoft.com/Contacts.Read.");
        }

        if (options.AddressesPerMinute is < 1 or > 100_000)
        {
            failures.Add($"{Section}:AddressesPerMinute must be between 1 and 100000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static bool TryParseGraphBaseUrl(string? value, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var parsed))
        {
            return false;
        }

        var secure = parsed.Scheme == Uri.UriSchemeHttps || (parsed.Scheme == Uri.UriSchemeHttp && parsed.IsLoopback);
        if (!secure || parsed.Query.Length > 0 || parsed.Fragment.Length > 0 || parsed.UserInfo.Length > 0)
        {
            return false;
        }

        uri = parsed;
        return true;
    }
}
