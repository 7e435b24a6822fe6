namespace SecureMailbox.Portal.Addin;

/// <summary>Settings of the Outlook add-in that the portal serves under <c>/addin/</c> (section <c>Addin</c>).</summary>
public sealed class AddinOptions
{
    public const string SectionName = "Addin";

    /// <summary>Folder with the task pane files (<c>addin/web</c>); defaults to <c>&lt;content root&gt;/../addin/web</c> when that exists.</summary>
    public string WebRoot { get; set; } = "";

    /// <summary>The add-in's XML manifest; defaults to <c>manifest.xml</c> two levels above <see cref="WebRoot"/> (the repository root).</summary>
    public string ManifestPath { get; set; } = "";

    /// <summary>Domains whose recipients are internal (no mobile number needed); subdomains count as internal too.</summary>
    public string[] OrganisationDomains { get; set; } = [];

    /// <summary>Subject keyword the add-in adds where Outlook lacks internet headers (Mailbox 1.8).</summary>
    public string SubjectKeyword { get; set; } = "[secure]";

    /// <summary>Country for phone numbers typed without a country code (ISO 3166 alpha-2).</summary>
    public string DefaultCountry { get; set; } = "SE";

    /// <summary>Public https base URL of the portal; replaces <c>https://localhost:5001</c> in the manifest.</summary>
    public string PortalBaseUrl { get; set; } = "";

    /// <summary>Whether the task pane may look numbers up through Microsoft Graph (needs Entra ID sign-in).</summary>
    public bool GraphLookup { get; set; }

    /// <summary>
    /// Application (client) ID the task pane signs in with (nested app authentication); an SPA
    /// registration with the <c>brk-multihub://</c> redirect URI. Required when <see cref="GraphLookup"/> is on.
    /// </summary>
    public string SignInClientId { get; set; } = "";

    /// <summary>Authority for that sign-in, e.g. <c>https://login.microsoftonline.com/&lt;tenant id&gt;</c>.</summary>
    public string SignInAuthority { get; set; } = "";

    /// <summary>Scope of the portal's add-in API the task pane asks for, e.g. <c>api://&lt;portal client id&gt;/access_as_user</c>.</summary>
    public string ApiScope { get; set; } = "";

    /// <summary>
    /// The gateway's public key for the sealed add-in header (<c>age1…</c>). Empty means: read it from
    /// <see cref="GatewayRecipientFile"/>, which the gateway writes at start.
    /// </summary>
    public string GatewayRecipient { get; set; } = "";

    /// <summary>
    /// File holding the gateway's public key as one <c>age1…</c> line; empty means <c>addin-header.key.pub</c> in the
    /// vault's data folder (where a gateway sharing the data folder writes it).
    /// </summary>
    public string GatewayRecipientFile { get; set; } = "";

    /// <summary>Subject keywords the on-send check accepts as "marked secure" besides <see cref="SubjectKeyword"/> (e.g. the gateway's other keywords).</summary>
    public string[] OtherSubjectKeywords { get; set; } = [];
}
