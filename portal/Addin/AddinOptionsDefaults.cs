using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Addin;

/// <summary>Fills in the add-in folders relative to the content root when they are not configured.</summary>
public sealed class AddinOptionsDefaults(IHostEnvironment environment) : IPostConfigureOptions<AddinOptions>
{
    public void PostConfigure(string? name, AddinOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.WebRoot))
        {
            var candidate = Path.GetFullPath(Path.Combine(environment.ContentRootPath, "..", "addin", "web"));
            if (Directory.Exists(candidate))
            {
                options.WebRoot = candidate;
            }
        }

        if (string.IsNullOrWhiteSpace(options.ManifestPath) && !string.IsNullOrWhiteSpace(options.WebRoot))
        {
            options.ManifestPath = Path.GetFullPath(Path.Combine(options.WebRoot, "..", "..", "manifest.xml"));
        }
    }
}
