using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;

namespace SecureMailbox.Portal.Outlook;

/// <summary>Where an administrator finds the add-in's manifest, and how to install it (linked from every page's footer).</summary>
public sealed class OutlookPage(IOptions<PortalOptions> portal) : PageModel
{
    public string ManifestUrl { get; } = portal.Value.UrlFor("addin/manifest.xml");

    public void OnGet()
    {
    }
}
