using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Portal.Tests.Addin;

/// <summary>
/// The add-in's files through the whole portal (Program.cs: security headers middleware, static files, endpoints):
/// icons cacheable (Outlook shows a generic image for an icon it may not cache), the gateway's sealing key in
/// config.json, configured keywords in launchevent.js.
/// </summary>
[TestFixture]
public sealed class AddinRealPipelineTests
{
    private PortalFactory _portal = null!;
    private HttpClient _client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _portal = new PortalFactory(new Dictionary<string, string?>
        {
            ["Addin:OrganisationDomains:0"] = "org.example",
            ["Addin:PortalBaseUrl"] = "https://portal.test",
            ["Addin:SubjectKeyword"] = "[säker]",
            ["Addin:OtherSubjectKeywords:0"] = "</script>[x]",
        });
        _client = _portal.Browser();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _client.Dispose();
        _portal.Dispose();
    }

    [TestCase(16)]
    [TestCase(20)]
    [TestCase(24)]
    [TestCase(32)]
    [TestCase(40)]
    [TestCase(48)]
    [TestCase(64)]
    [TestCase(80)]
    [TestCase(128)]
    public async Task GetIcon_EverySizeTheManifestNames_IsACacheablePngOfThatSize(int size)
    {
        using var response = await _client.GetAsync(new Uri($"/addin/assets/icon-{size}.png", UriKind.Relative));
        var png = await response.Content.ReadAsByteArrayAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/png"));
        Assert.That(response.Headers.CacheControl?.NoStore, Is.False);
        Assert.That(response.Headers.CacheControl?.Public, Is.True);
        Assert.That(response.Headers.CacheControl?.MaxAge, Is.GreaterThanOrEqualTo(TimeSpan.FromHours(1)));
        Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), Is.EqualTo(size));
        Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)), Is.EqualTo(size));
    }

    [TestCase("/addin/taskpane.html")]
    [TestCase("/addin/taskpane.js")]
    [TestCase("/addin/taskpane.css")]
    [TestCase("/addin/vendor/age-encryption.js")]
    public async Task GetPaneFile_IsRevalidatedNotNoStore(string path)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.CacheControl?.NoStore, Is.False);
        Assert.That(response.Headers.CacheControl?.NoCache, Is.True);
        Assert.That(response.Headers.ETag, Is.Not.Null, "revalidation needs a validator");
    }

    [Test]
    public async Task GetConfig_GatewayPublishedItsKeyInTheDataFolder_PassesItToThePane()
    {
        var config = await _client.GetFromJsonAsync<JsonElement>(new Uri("/addin/config.json", UriKind.Relative));
        Assert.That(config.GetProperty("gatewayRecipient").ValueKind, Is.EqualTo(JsonValueKind.Null), "no key yet: none is invented");

        using var identity = AgeIdentity.Generate();
        await File.WriteAllTextAsync(Path.Combine(_portal.Data.Path, "addin-header.key.pub"), identity.Recipient + "\n");
        config = await _client.GetFromJsonAsync<JsonElement>(new Uri("/addin/config.json", UriKind.Relative));

        Assert.That(config.GetProperty("gatewayRecipient").GetString(), Is.EqualTo(identity.Recipient.ToString()));
        File.Delete(Path.Combine(_portal.Data.Path, "addin-header.key.pub"));
    }

    [Test]
    public async Task GetConfig_KeyConfigured_WinsOverTheFile()
    {
        using var configured = AgeIdentity.Generate();
        using var portal = new PortalFactory(new Dictionary<string, string?>
        {
            ["Addin:OrganisationDomains:0"] = "org.example",
            ["Addin:PortalBaseUrl"] = "https://portal.test",
            ["Addin:GatewayRecipient"] = configured.Recipient.ToString(),
        });
        using var other = AgeIdentity.Generate();
        await File.WriteAllTextAsync(Path.Combine(portal.Data.Path, "addin-header.key.pub"), other.Recipient + "\n");
        using var client = portal.Browser();

        var config = await client.GetFromJsonAsync<JsonElement>(new Uri("/addin/config.json", UriKind.Relative));

        Assert.That(config.GetProperty("gatewayRecipient").GetString(), Is.EqualTo(configured.Recipient.ToString()));
    }

    [Test]
    public async Task GetLaunchEventScript_HasTheConfiguredKeywords_AsASafeLiteral()
    {
        using var response = await _client.GetAsync(new Uri("/addin/launchevent.js", UriKind.Relative));
        var script = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"));
        Assert.That(script, Does.Contain("/*keywords*/[\"[s\\u00E4ker]\",\"\\u003C/script\\u003E[x]\"]/*end keywords*/"));
        Assert.That(script, Does.Not.Contain("'[secure]'"), "the built-in defaults are replaced");
        Assert.That(script, Does.Not.Contain("</script>"));
    }
}
