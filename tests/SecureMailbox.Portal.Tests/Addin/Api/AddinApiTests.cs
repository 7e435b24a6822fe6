using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using SecureMailbox.Portal.Addin;
using SecureMailbox.Portal.Addin.Api;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Tests.Addin.Api;

/// <summary>
/// POST /addin/api/phones with the real Microsoft.Identity.Web (token validation and on-behalf-of through
/// MSAL) and the real Graph SDK, against <see cref="FakeEntraAndGraph"/> on 127.0.0.1.
/// </summary>
[TestFixture]
public sealed class AddinApiTests
{
    private static readonly Uri PhonesUri = new("/addin/api/phones", UriKind.Relative);
    private FakeEntraAndGraph _far = null!;
    private WebApplication _portal = null!;
    private HttpClient _client = null!;

    internal static Dictionary<string, string?> Settings() => new()
    {
        ["AzureAd:Instance"] = FakeEntraAndGraph.Instance,
        ["AzureAd:TenantId"] = FakeEntraAndGraph.TenantId,
        ["AzureAd:ClientId"] = FakeEntraAndGraph.ClientId,
        ["AzureAd:ClientSecret"] = FakeEntraAndGraph.ClientSecret,
        ["AddinApi:GraphBaseUrl"] = $"https://{FakeEntraAndGraph.Host}/v1.0",
    };

    internal static WebApplication BuildPortal(IDictionary<string, string?> settings, Func<HttpMessageHandler>? handler, bool withAddinFiles = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = Path.Combine(AddinEndpointsTests.RepositoryRoot(), "portal"),
            EnvironmentName = "Testing",
        });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddOptions<PhoneOptions>();
        builder.Services.AddSingleton<PhoneNumberRules>();
        if (withAddinFiles)
        {
            builder.Services.AddAddin(builder.Configuration);
        }

        builder.Services.AddAddinApi(builder.Configuration);
        if (handler is not null)
        {
            // Every outgoing call of the portal (JWKS, issuer metadata, MSAL, Graph) goes to the fake.
            builder.Services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler(handler));
            builder.Services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o => o.BackchannelHttpHandler = handler());
            // Without a client name the issuer validator fetches metadata with a static HttpClient of its own.
            builder.Services.Configure<Microsoft.Identity.Web.AadIssuerValidatorOptions>(o => o.HttpClientName = "SecureMailbox.Tests.Entra");
        }

        var app = builder.Build();
        if (withAddinFiles)
        {
            app.MapAddin();
        }

        app.MapAddinApi();
        return app;
    }

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _far = new FakeEntraAndGraph();
        _far.Contacts["anna@external.se"] = "070-123 45 67";
        _far.Contacts["premium@external.se"] = "0900-123 45 67";
        _far.Users["colleague@example.se"] = "+46 70 765 43 21";
        _far.Users["nomobile@example.se"] = null;
        _far.OrgContacts["bo@partner.example"] = "070-765 43 21";
        _far.OrgContacts["both@partner.example"] = "+46 70 111 22 33";
        _far.Contacts["both@partner.example"] = "+46 70 444 55 66";
        await _far.StartAsync();
        var settings = Settings();
        settings["AddinApi:AddressesPerMinute"] = "60";
        _portal = BuildPortal(settings, _far.CreateHandler);
        await _portal.StartAsync();
        _client = _portal.GetTestClient();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _portal.DisposeAsync();
        await _far.DisposeAsync();
    }

    [SetUp]
    public void Reset()
    {
        _far.Requests.Clear();
        _far.TokenEndpointError = null;
        _far.ThrottleContacts = 0;
        _far.FailingAddresses.Clear();
    }

    private async Task<HttpResponseMessage> PostAsync(string? token, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PhonesUri) { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _client.SendAsync(request);
    }

    private static object Addresses(params string[] addresses) => new { addresses };

    [Test]
    public async Task PostPhones_ValidToken_ReturnsE164NumbersFromContactsThenDirectory()
    {
        var token = _far.IssueToken();

        using var response = await PostAsync(token, Addresses("Anna@External.se", "colleague@example.se", "unknown@nowhere.se", "nomobile@example.se", "premium@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync() + response.Headers.WwwAuthenticate);
        var body = await response.Content.ReadFromJsonAsync<PhoneLookupResponse>();
        Assert.That(body!.Phones, Is.EqualTo(new Dictionary<string, string>
        {
            ["anna@external.se"] = "+46701234567",
            ["colleague@example.se"] = "+46707654321",
        }));
        Assert.That(response.Headers.CacheControl?.NoStore, Is.True);

        var requests = _far.Requests.ToArray();
        var obo = requests.Single(r => r.Path.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal));
        Assert.That(obo.Form["assertion"], Is.EqualTo(token), "the on-behalf-of exchange carries the task pane's token");
        Assert.That(obo.Form["scope"], Does.Contain("https://graph.microsoft.com/Contacts.Read"));
        var graph = requests.Where(r => r.Path.StartsWith("/v1.0/", StringComparison.Ordinal)).ToArray();
        Assert.That(graph.Select(r => r.Authorization).Distinct(), Is.EqualTo(new[] { $"Bearer {FakeEntraAndGraph.GraphAccessToken}" }));
        Assert.That(graph.Count(r => r.Path == "/v1.0/me/contacts"), Is.EqualTo(5));
        Assert.That(Uri.UnescapeDataString(graph.First(r => r.Path == "/v1.0/me/contacts").Query), Does.Contain("$filter=emailAddresses/any(a:a/address eq '"));
        Assert.That(graph.Any(r => r.Path == "/v1.0/users/anna@external.se"), Is.False, "a number found in contacts is not looked up again");
        Assert.That(graph.Any(r => Uri.UnescapeDataString(r.Path) == "/v1.0/users/colleague@example.se"), Is.True);
    }

    [Test]
    public async Task PostPhones_ExternalMailContact_IsFoundInOrganisationContactsFilteredOnMail()
    {
        using var response = await PostAsync(_far.IssueToken(), Addresses("Bo@Partner.example"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<PhoneLookupResponse>();
        Assert.That(body!.Phones, Is.EqualTo(new Dictionary<string, string> { ["bo@partner.example"] = "+46707654321" }), "the mobile entry, not the business one");
        Assert.That(body.Failed, Is.Empty);
        var graph = _far.Requests.Where(r => r.Path.StartsWith("/v1.0/", StringComparison.Ordinal)).Select(r => r.Path + Uri.UnescapeDataString(r.Query)).ToArray();
        Assert.That(graph, Has.Some.Contains("/v1.0/me/contacts?$filter=emailAddresses/any(a:a/address eq 'bo@partner.example')"));
        Assert.That(graph, Has.Some.Contains("/v1.0/contacts?$filter=mail eq 'bo@partner.example'"));
        Assert.That(graph, Has.None.Contains("/v1.0/users/"), "found before the directory of the tenant's own users");
    }

    [Test]
    public async Task PostPhones_TheSendersOwnContact_WinsOverTheOrganisationContact()
    {
        using var response = await PostAsync(_far.IssueToken(), Addresses("both@partner.example"));

        var body = await response.Content.ReadFromJsonAsync<PhoneLookupResponse>();
        Assert.That(body!.Phones["both@partner.example"], Is.EqualTo("+46704445566"));
        Assert.That(_far.Requests.Any(r => r.Path == "/v1.0/contacts"), Is.False);
    }

    [Test]
    public async Task PostPhones_ExternalAddressKnownNowhere_UsersAnswers404AndItIsSimplyNotFound()
    {
        using var response = await PostAsync(_far.IssueToken(), Addresses("nobody@external.example"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var body = await response.Content.ReadFromJsonAsync<PhoneLookupResponse>();
        Assert.That(body!.Phones, Is.Empty);
        Assert.That(body.Failed, Is.Empty);
        Assert.That(_far.Requests.Any(r => Uri.UnescapeDataString(r.Path) == "/v1.0/users/nobody@external.example"), Is.True);
    }

    [Test]
    public async Task PostPhones_GraphFailsForOneAddress_TheOthersAreStillAnswered()
    {
        _far.FailingAddresses.Add("broken@external.se");

        using var response = await PostAsync(_far.IssueToken(), Addresses("broken@external.se", "anna@external.se", "bo@partner.example"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<PhoneLookupResponse>();
        Assert.That(body!.Phones, Is.EqualTo(new Dictionary<string, string> { ["anna@external.se"] = "+46701234567", ["bo@partner.example"] = "+46707654321" }));
        Assert.That(body.Failed, Is.EqualTo(new[] { "broken@external.se" }));
    }

    [Test]
    public async Task PostPhones_MoreAddressesThanTheUserMayLookUpPerMinute_Returns429WithRetryAfterForThatUserOnly()
    {
        var busy = _far.IssueToken(objectId: "0a1b2c3d-0000-4000-8000-0000000b0b0b");
        var many = Enumerable.Range(0, 60).Select(i => $"p{i}@nowhere.example").ToArray();

        using (var first = await PostAsync(busy, Addresses(many)))
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        _far.Requests.Clear();
        using var second = await PostAsync(busy, Addresses("anna@external.se"));
        using var otherUser = await PostAsync(_far.IssueToken(objectId: "0a1b2c3d-0000-4000-8000-0000000c0c0c"), Addresses("anna@external.se"));

        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(second.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(second.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
        Assert.That(otherUser.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the limit is per user");
        Assert.That(_far.Requests.Count(r => r.Path == "/v1.0/me/contacts"), Is.EqualTo(1), "the refused request caused no Graph call");
    }

    [Test]
    public async Task PostPhones_SecondRequest_UsesCachedGraphToken()
    {
        var token = _far.IssueToken();
        using (var first = await PostAsync(token, Addresses("anna@external.se")))
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        _far.Requests.Clear();
        using var second = await PostAsync(token, Addresses("anna@external.se"));

        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_far.Requests.Any(r => r.Path.EndsWith("/token", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task PostPhones_ApostropheInAddress_IsEscapedInTheContactsFilter()
    {
        _far.Contacts["o'brien@external.ie"] = "+353 85 123 4567";

        using var response = await PostAsync(_far.IssueToken(), Addresses("O'Brien@External.ie"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await response.Content.ReadFromJsonAsync<PhoneLookupResponse>())!.Phones, Is.EqualTo(new Dictionary<string, string> { ["o'brien@external.ie"] = "+353851234567" }));
        var filter = Uri.UnescapeDataString(_far.Requests.First(r => r.Path == "/v1.0/me/contacts").Query);
        Assert.That(filter, Does.Contain("eq 'o''brien@external.ie')"));
    }

    [Test]
    public async Task PostPhones_GraphThrottles_RetriesAfterRetryAfter()
    {
        _far.ThrottleContacts = 1;

        using var response = await PostAsync(_far.IssueToken(), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await response.Content.ReadFromJsonAsync<PhoneLookupResponse>())!.Phones["anna@external.se"], Is.EqualTo("+46701234567"));
        Assert.That(_far.Requests.Count(r => r.Path == "/v1.0/me/contacts"), Is.EqualTo(2));
    }

    [Test]
    public async Task PostPhones_GraphKeepsThrottling_Returns502Problem()
    {
        _far.ThrottleContacts = 100;

        using var response = await PostAsync(_far.IssueToken(), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task PostPhones_V2TokenWithApplicationIdUriAudience_Returns401()
    {
        // Entra's v2.0 access tokens carry the client ID as audience; Microsoft.Identity.Web
        // accepts api://<client id> only in v1.0 tokens.
        using var response = await PostAsync(_far.IssueToken(audience: $"api://{FakeEntraAndGraph.ClientId}"), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Does.Contain("audience"));
    }

    [Test]
    public async Task PostPhones_NoToken_Returns401()
    {
        using var response = await PostAsync(null, Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer"));
    }

    [Test]
    public async Task PostPhones_WrongAudience_Returns401()
    {
        using var response = await PostAsync(_far.IssueToken(audience: "api://someone-else"), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        AssertNoGraphCall();
    }

    [Test]
    public async Task PostPhones_Expired_Returns401()
    {
        var now = DateTime.UtcNow;
        using var response = await PostAsync(_far.IssueToken(notBefore: now.AddHours(-3), expires: now.AddHours(-2)), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        AssertNoGraphCall();
    }

    [Test]
    public async Task PostPhones_UnsignedAlgNone_Returns401()
    {
        using var response = await PostAsync(_far.IssueUnsignedToken(), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        AssertNoGraphCall();
    }

    [Test]
    public async Task PostPhones_SignedByAnotherKey_Returns401()
    {
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var token = _far.IssueToken(key: new RsaSecurityKey(other) { KeyId = _far.SigningKey.KeyId });

        using var response = await PostAsync(token, Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        AssertNoGraphCall();
    }

    [TestCase("https://evil.example/" + FakeEntraAndGraph.TenantId + "/v2.0")]
    [TestCase("https://127.0.0.1/00000000-0000-0000-0000-000000000bad/v2.0")]
    public async Task PostPhones_WrongIssuer_Returns401(string issuer)
    {
        using var response = await PostAsync(_far.IssueToken(issuer: issuer), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        AssertNoGraphCall();
    }

    [Test]
    public async Task PostPhones_MissingScope_Returns403()
    {
        using var response = await PostAsync(_far.IssueToken(scope: "User.Read"), Addresses("anna@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        AssertNoGraphCall();
    }

    [Test]
    public async Task PostPhones_ConsentMissing_Returns403Problem()
    {
        _far.TokenEndpointError = "invalid_grant";

        using var response = await PostAsync(_far.IssueToken(scope: "access_as_user Other.Scope"), Addresses("bo@external.se"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        AssertNoGraphCall();
    }

    [Test]
    public async Task PostPhones_101Addresses_Returns400Problem()
    {
        var addresses = Enumerable.Range(0, 101).Select(i => $"user{i}@external.se").ToArray();

        using var response = await PostAsync(_far.IssueToken(), Addresses(addresses));

        await AssertProblemAsync(response, "at most 100");
    }

    [TestCase("not an address")]
    [TestCase("anna@external.se\r\nBcc: mallory@evil.example")]
    [TestCase("anna@external.se\n")]
    [TestCase("anna=+46701234567@external.se")]
    [TestCase("\"quoted\"@external.se")]
    [TestCase("anna@external.se, bo@external.se")]
    [TestCase("anna@exämple.se")]
    [TestCase("")]
    public async Task PostPhones_NotAnAddress_Returns400ProblemWithoutEcho(string address)
    {
        using var response = await PostAsync(_far.IssueToken(), Addresses("ok@external.se", address));

        var text = await AssertProblemAsync(response, "addresses[1]");
        Assert.That(text, Does.Not.Contain("mallory"));
    }

    [TestCase("{\"addresses\": \"anna@external.se\"}")]
    [TestCase("{\"addresses\": [1, 2]}")]
    [TestCase("{\"addresses\": []}")]
    [TestCase("{\"addresses\": [\"anna@external.se\"], \"extra\": true}")]
    [TestCase("[\"anna@external.se\"]")]
    [TestCase("{\"addresses\": [\"anna@external.se\"")]
    [TestCase("null")]
    public async Task PostPhones_MalformedBody_Returns400Problem(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PhonesUri)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _far.IssueToken());

        using var response = await _client.SendAsync(request);

        await AssertProblemAsync(response, "addresses");
    }

    [Test]
    public async Task PostPhones_BodyLargerThanLimit_Returns400Problem()
    {
        var json = "{\"addresses\": [\"" + new string('a', PhoneLookupRequestReader.MaxBodyBytes) + "@x.se\"]}";
        using var request = new HttpRequestMessage(HttpMethod.Post, PhonesUri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _far.IssueToken());

        using var response = await _client.SendAsync(request);

        await AssertProblemAsync(response, "larger than");
    }

    [Test]
    public async Task PostPhones_NotJson_Returns400Problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PhonesUri) { Content = new StringContent("addresses=anna@external.se", Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _far.IssueToken());

        using var response = await _client.SendAsync(request);

        await AssertProblemAsync(response, "JSON");
    }

    private void AssertNoGraphCall() =>
        Assert.That(_far.Requests.Where(r => r.Path.StartsWith("/v1.0/", StringComparison.Ordinal)), Is.Empty);

    private async Task<string> AssertProblemAsync(HttpResponseMessage response, string detailPart)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        using var problem = JsonDocument.Parse(text);
        Assert.That(problem.RootElement.GetProperty("detail").GetString(), Does.Contain(detailPart));
        AssertNoGraphCall();
        return text;
    }
}
