using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Tests.Addin.Api;

/// <summary>The <c>AzureAd</c> and <c>AddinApi</c> sections: absent means off, bad values stop the portal at start.</summary>
[TestFixture]
public sealed class AddinApiConfigurationTests
{
    [Test]
    public async Task Start_NoAzureAdSection_ApiIsOff()
    {
        await using var portal = AddinApiTests.BuildPortal(new Dictionary<string, string?>(), handler: null);
        await portal.StartAsync();
        using var client = portal.GetTestClient();

        using var response = await client.PostAsync(new Uri("/addin/api/phones", UriKind.Relative), new StringContent("{}"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [TestCase("AzureAd:ClientId", "", "AzureAd:ClientId")]
    [TestCase("AzureAd:TenantId", "", "AzureAd:TenantId")]
    [TestCase("AzureAd:TenantId", "common", "AzureAd:TenantId")]
    [TestCase("AzureAd:Instance", "http://login.microsoftonline.com/", "AzureAd:Instance")]
    [TestCase("AzureAd:Instance", "", "AzureAd:Instance")]
    [TestCase("AzureAd:ClientSecret", "", "AzureAd:ClientSecret")]
    [TestCase("AzureAd:Audience", "api://with space", "AzureAd:Audience")]
    [TestCase("AddinApi:GraphBaseUrl", "http://graph.example.com/v1.0", "AddinApi:GraphBaseUrl")]
    [TestCase("AddinApi:RequiredScope", "two scopes", "AddinApi:RequiredScope")]
    public async Task Start_BadSetting_FailsNamingTheSetting(string key, string value, string named)
    {
        var settings = AddinApiTests.Settings();
        settings[key] = value;
        await using var portal = AddinApiTests.BuildPortal(settings, handler: null);

        var failure = Assert.ThrowsAsync<OptionsValidationException>(() => portal.StartAsync());

        Assert.That(failure!.Message, Does.Contain(named));
    }

    [Test]
    public async Task Start_WithAddinFiles_BothWork()
    {
        var settings = AddinApiTests.Settings();
        settings["Addin:OrganisationDomains:0"] = "example.se";
        settings["Addin:PortalBaseUrl"] = "https://securemailbox.example.se";
        // Microsoft.IdentityModel keeps one issuer validator per authority for the whole process;
        // another tenant keeps this host's (unrouted) one apart from AddinApiTests' validator.
        settings["AzureAd:TenantId"] = "11111111-2222-4333-8444-555555555555";
        await using var portal = AddinApiTests.BuildPortal(settings, handler: null, withAddinFiles: true);
        await portal.StartAsync();
        using var client = portal.GetTestClient();

        using var page = await client.GetAsync(new Uri("/addin/taskpane.html", UriKind.Relative));
        using var api = await client.PostAsync(new Uri("/addin/api/phones", UriKind.Relative), new StringContent("{}"));
        using var apiGet = await client.GetAsync(new Uri("/addin/api/phones", UriKind.Relative));

        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(api.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the API is reached, not the static files");
        Assert.That(apiGet.IsSuccessStatusCode, Is.False);
    }

    [Test]
    public async Task Start_GoodSettings_Starts()
    {
        await using var portal = AddinApiTests.BuildPortal(AddinApiTests.Settings(), handler: null);

        Assert.DoesNotThrowAsync(() => portal.StartAsync());
        await portal.StopAsync();
    }
}
