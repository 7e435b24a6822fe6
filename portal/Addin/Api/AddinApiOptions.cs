namespace SecureMailbox.Portal.Addin.Api;

/// <summary>Settings of the add-in API (section <c>AddinApi</c>); the API itself is on only when <c>AzureAd</c> is configured.</summary>
public sealed class AddinApiOptions
{
    public const string SectionName = "AddinApi";

    /// <summary>Microsoft Graph base URL; https, or http on a loopback host (tests).</summary>
    public string GraphBaseUrl { get; set; } = "https://graph.microsoft.com/v1.0";

    /// <summary>Scope the task pane's token must carry (<c>scp</c>), as exposed by the portal's app registration.</summary>
    public string RequiredScope { get; set; } = "access_as_user";

    /// <summary>Delegated Graph permissions requested on behalf of the user: contacts, organisation contacts, then the directory's <c>mobilePhone</c>.</summary>
    public string[] GraphScopes { get; set; } = ["https://graph.microsoft.com/Contacts.Read", "https://graph.microsoft.com/OrgContact.Read.All", "https://graph.microsoft.com/User.Read.All"];

    /// <summary>
    /// Addresses one user may look up per minute (each costs up to three Graph calls), per portal instance. A request
    /// over the limit gets 429 with Retry-After.
    /// </summary>
    public int AddressesPerMinute { get; set; } = 300;

    /// <summary>Most addresses one request may ask about.</summary>
    public const int MaxAddresses = 100;
}
