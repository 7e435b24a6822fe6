using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using SecureMailbox.Portal.Addin;

namespace SecureMailbox.Portal.Tests.Addin;

/// <summary>The /addin/ endpoints on a real host (TestServer) over the repository's addin/web and manifest.xml.</summary>
[TestFixture]
public sealed class AddinEndpointsTests
{
    private const string BaseUrl = "https://securemailbox.example.se";
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SecureMailbox.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Repository root (SecureMailbox.sln) not found.");
    }

    internal static WebApplication BuildApp(IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = Path.Combine(RepositoryRoot(), "portal"),
            EnvironmentName = "Testing",
        });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAddin(builder.Configuration);
        var app = builder.Build();
        app.MapAddin();
        return app;
    }

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _app = BuildApp(new Dictionary<string, string?>
        {
            ["Addin:OrganisationDomains:0"] = "Example.se",
            ["Addin:OrganisationDomains:1"] = "region.example.se",
            ["Addin:PortalBaseUrl"] = BaseUrl + "/",
            ["Addin:SubjectKeyword"] = "[säker]",
        });
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Test]
    public async Task GetTaskpane_DefaultWebRoot_ServesHtmlWithPolicyHeaders()
    {
        using var response = await _client.GetAsync(new Uri("/addin/taskpane.html", UriKind.Relative));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        Assert.That(string.Join(";", response.Headers.GetValues("Content-Security-Policy")), Does.Contain("script-src 'self' https://appsforoffice.microsoft.com"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("taskpane.js"));
    }

    [TestCase("/addin/taskpane.js", "text/javascript")]
    [TestCase("/addin/taskpane.css", "text/css")]
    [TestCase("/addin/vendor/libphonenumber-mobile.js", "text/javascript")]
    [TestCase("/addin/assets/icon-80.png", "image/png")]
    public async Task GetStaticFile_Exists_ServesWithContentType(string path, string mediaType)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo(mediaType));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
    }

    [TestCase("/addin/missing.js")]
    [TestCase("/addin/../manifest.xml.bak")]
    [TestCase("/addin/%2e%2e/%2e%2e/SecureMailbox.sln")]
    [TestCase("/addin/..%2f..%2fSecureMailbox.sln")]
    public async Task GetStaticFile_MissingOrOutsideWebRoot_Returns404(string path)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task PostStaticFile_AnyPath_IsNotServed()
    {
        using var content = new StringContent("x");
        using var response = await _client.PostAsync(new Uri("/addin/taskpane.html", UriKind.Relative), content);

        Assert.That(response.IsSuccessStatusCode, Is.False);
    }

    [Test]
    public async Task GetConfig_Configured_ReturnsTaskpaneSettings()
    {
        using var response = await _client.GetAsync(new Uri("/addin/config.json", UriKind.Relative));
        var config = await response.Content.ReadFromJsonAsync<Dictionary<string, object>>();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(config!.Keys, Is.EquivalentTo(new[] { "organisationDomains", "subjectKeyword", "defaultCountry", "portalBaseUrl", "graphLookup", "signIn", "gatewayRecipient" }));
        Assert.That(config["organisationDomains"].ToString(), Does.Contain("\"example.se\"").And.Contain("\"region.example.se\""));
        Assert.That(config["subjectKeyword"].ToString(), Is.EqualTo("[säker]"));
        Assert.That(config["defaultCountry"].ToString(), Is.EqualTo("SE"));
        Assert.That(config["portalBaseUrl"].ToString(), Is.EqualTo(BaseUrl));
    }

    [Test]
    public async Task GetManifest_Configured_RewritesPlaceholderHost()
    {
        using var response = await _client.GetAsync(new Uri("/addin/manifest.xml", UriKind.Relative));
        var xml = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/xml"));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        Assert.That(xml, Does.Not.Contain(AddinManifest.PlaceholderBaseUrl));
        Assert.That(xml, Does.Contain($"{BaseUrl}/addin/taskpane.html"));
        Assert.That(xml, Does.Contain($"<AppDomain>{BaseUrl}</AppDomain>"));
    }

    [Test]
    public async Task GetManifest_Configured_StillValidatesAgainstSchema()
    {
        // ADDIN_SCHEMA_DIR when the repository is checked out without shared/ beside it (as for the add-in's JS tests).
        var schemaDir = Environment.GetEnvironmentVariable("ADDIN_SCHEMA_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot(), "..", "shared", "schemas", "office-addin");
        var schema = Path.GetFullPath(Path.Combine(schemaDir, "OfficeAppManifestV1_1.xsd"));
        Assert.That(File.Exists(schema), Is.True, $"schema missing: {schema}");
        var xml = await _client.GetStringAsync(new Uri("/addin/manifest.xml", UriKind.Relative));
        var file = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}.xml");
        await File.WriteAllTextAsync(file, xml);
        try
        {
            using var xmllint = StartXmllint(schema, file);
            var errors = await xmllint.StandardError.ReadToEndAsync();
            await xmllint.WaitForExitAsync();

            Assert.That(xmllint.ExitCode, Is.Zero, errors);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Process StartXmllint(string schema, string file)
    {
        try
        {
            return Process.Start(new ProcessStartInfo("xmllint", ["--noout", "--nonet", "--schema", schema, file])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            }) ?? throw new InvalidOperationException("xmllint did not start.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("xmllint is not installed (Debian package libxml2-utils); it validates the served manifest.");
            throw;
        }
    }

    [TestCase("Addin:PortalBaseUrl", "http://securemailbox.example.se", "Addin:PortalBaseUrl")]
    [TestCase("Addin:PortalBaseUrl", "https://securemailbox.example.se/?x=\"", "Addin:PortalBaseUrl")]
    [TestCase("Addin:OrganisationDomains:0", "not a domain", "Addin:OrganisationDomains")]
    [TestCase("Addin:WebRoot", "/nonexistent/addin/web", "Addin:WebRoot")]
    [TestCase("Addin:DefaultCountry", "Sweden", "Addin:DefaultCountry")]
    [TestCase("Addin:GraphLookup", "true", "Addin:SignInClientId")]
    [TestCase("Addin:GatewayRecipient", "age1notakey", "Addin:GatewayRecipient")]
    [TestCase("Addin:GatewayRecipient", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "Addin:GatewayRecipient")]
    public void Start_BadSetting_FailsNamingTheSetting(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Addin:OrganisationDomains:0"] = "example.se",
            ["Addin:PortalBaseUrl"] = BaseUrl,
            [key] = value,
        };

        // MapAddin already reads the options (it needs WebRoot), so the failure can come from
        // mapping or from ValidateOnStart; either way the portal does not start.
        var error = Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = BuildApp(settings);
            await app.StartAsync();
        });

        Assert.That(error!.Message, Does.Contain(named));
    }

    [Test]
    public async Task GetConfig_GraphLookupOn_IncludesSignInSettings()
    {
        await using var app = BuildApp(new Dictionary<string, string?>
        {
            ["Addin:OrganisationDomains:0"] = "example.se",
            ["Addin:PortalBaseUrl"] = BaseUrl,
            ["Addin:GraphLookup"] = "true",
            ["Addin:SignInClientId"] = "d2c1b0a9-8f7e-4d6c-b5a4-93827160f5e4",
            ["Addin:SignInAuthority"] = "https://login.microsoftonline.com/7f1c2a94-5b1e-4a43-9a0e-0c6a1d2b3c4d/",
            ["Addin:ApiScope"] = "api://3b8e6f21-9d4c-4e7a-b1f2-6a5c4d3e2f10/access_as_user",
        });
        await app.StartAsync();
        using var client = app.GetTestClient();

        var config = await client.GetFromJsonAsync<AddinClientConfig>(new Uri("/addin/config.json", UriKind.Relative));

        Assert.That(config!.GraphLookup, Is.True);
        Assert.That(config.SignIn, Is.EqualTo(new AddinSignInConfig(
            "d2c1b0a9-8f7e-4d6c-b5a4-93827160f5e4",
            "https://login.microsoftonline.com/7f1c2a94-5b1e-4a43-9a0e-0c6a1d2b3c4d",
            "api://3b8e6f21-9d4c-4e7a-b1f2-6a5c4d3e2f10/access_as_user")));
    }

    [Test]
    public void Rewrite_UrlWithAmpersand_IsEscapedForXml()
    {
        var xml = AddinManifest.Rewrite("<a href=\"https://localhost:5001/addin/x\"/>", "https://portal.example.se/a&b");

        Assert.That(xml, Is.EqualTo("<a href=\"https://portal.example.se/a&amp;b/addin/x\"/>"));
    }
}
