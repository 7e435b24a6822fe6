using System.Text.Json;
using System.Text.RegularExpressions;

namespace SecureMailbox.Portal.Addin;

/// <summary>Writes the configured subject keywords into <c>launchevent.js</c> between its keyword markers.</summary>
public static partial class AddinLaunchEventScript
{
    public static string WithKeywords(string script, IEnumerable<string> keywords)
    {
        ArgumentNullException.ThrowIfNull(script);
        var list = keywords.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => k.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        // The default encoder escapes <, >, &, quotes and non-ASCII as \uXXXX: the JSON is a safe JavaScript literal.
        var literal = JsonSerializer.Serialize(list);
        if (!Markers().IsMatch(script))
        {
            throw new InvalidOperationException("launchevent.js has no /*keywords*/…/*end keywords*/ markers.");
        }
        return Markers().Replace(script, _ => $"/*keywords*/{literal}/*end keywords*/", 1);
    }

    [GeneratedRegex(@"/\*keywords\*/.*?/\*end keywords\*/", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex Markers();
}
