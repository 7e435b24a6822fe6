using System.Net;

namespace SecureMailbox.Portal.Tests.Support;

/// <summary>The recipient's steps through the portal, each asserting what a person would see.</summary>
public static class RecipientJourney
{
    public const string Password = "en lång mening som lösenord 42";

    /// <summary>GET the link page, POST its button: the pre-session starts and /verify follows.</summary>
    public static async Task<string> OpenLinkAsync(HttpClient client, string token)
    {
        var (status, html, _) = await client.PageAsync("/l/" + token);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        using var post = await client.PostFormAsync("/l", html, ("token", token));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(post.Location(), Is.EqualTo("/verify"));
        var verify = await client.PageAsync("/verify");
        Assert.That(verify.Status, Is.EqualTo(HttpStatusCode.OK));
        return verify.Html;
    }

    public static async Task<(HttpStatusCode Status, string Html)> SendCodeAsync(HttpClient client, string verifyHtml)
    {
        using var response = await client.PostFormAsync("/verify?handler=Send", verifyHtml);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<HttpResponseMessage> CheckCodeAsync(HttpClient client, string verifyHtml, string code) =>
        await client.PostFormAsync("/verify?handler=Check", verifyHtml, ("code", code));

    /// <summary>From a fresh link to a signed-in account with a password; returns the first page's URL (the message).</summary>
    public static async Task<string> CreateAccountAsync(PortalFactory portal, HttpClient client, string token)
    {
        ArgumentNullException.ThrowIfNull(portal);
        var verify = await OpenLinkAsync(client, token);
        var (status, html) = await SendCodeAsync(client, verify);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), html);
        using var check = await CheckCodeAsync(client, html, portal.LatestSmsCode());
        Assert.That(check.Location(), Is.EqualTo("/welcome"));
        var welcome = await client.PageAsync("/welcome");
        using var created = await client.PostFormAsync("/welcome", welcome.Html, ("password", Password), ("confirm", Password));
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await created.Content.ReadAsStringAsync());
        return created.Location();
    }

    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password, string returnUrl = "/mailbox")
    {
        var page = await client.PageAsync("/signin?returnUrl=" + Uri.EscapeDataString(returnUrl));
        return await client.PostFormAsync("/signin", page.Html, ("email", email), ("password", password), ("returnUrl", returnUrl));
    }
}
