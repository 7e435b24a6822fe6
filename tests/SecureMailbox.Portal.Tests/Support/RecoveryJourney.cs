using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Vault.Data;
using TotpCore = SecureMailbox.Portal.Accounts.TwoFactor.Totp;

namespace SecureMailbox.Portal.Tests.Support;

/// <summary>Steps shared by the recovery fixtures: an account with a message, codes from pages, the recovery cookie by hand.</summary>
public static partial class RecoveryJourney
{
    public const string NewPassword = "ett helt nytt lösenord för kontot 7";

    /// <summary>A fresh account (signed in on the returned client) with one message "Provsvar"; returns the client and the item id.</summary>
    public static async Task<(HttpClient Client, Guid ItemId)> AccountWithMessageAsync(PortalFactory portal)
    {
        ArgumentNullException.ThrowIfNull(portal);
        var (token, _) = await portal.StoreMessageAsync("Provsvar");
        var client = portal.Browser();
        var first = await RecipientJourney.CreateAccountAsync(portal, client, token);
        return (client, Guid.Parse(first[(first.LastIndexOf('/') + 1)..]));
    }

    public static async Task<Guid> AccountIdAsync(PortalFactory portal, string email = PortalFactory.PatientAddress)
    {
        ArgumentNullException.ThrowIfNull(portal);
        await using var vault = await portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        return await vault.Accounts.Where(a => a.Email == email).Select(a => a.Id).SingleAsync();
    }

    public static string CodeNow(PortalFactory portal, byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(portal);
        return TotpCore.ComputeAt(secret, portal.Time.GetUtcNow());
    }

    /// <summary>The backup codes a page shows (<c>&lt;li&gt;&lt;code&gt;XXXXX-XXXXX&lt;/code&gt;&lt;/li&gt;</c>).</summary>
    public static List<string> BackupCodes(string html) => [.. BackupCodeItem().Matches(html).Select(m => m.Groups[1].Value)];

    /// <summary>The value a response set for a cookie (the https test host uses the <c>__Host-smbx-</c> names).</summary>
    public static string? SetCookie(HttpResponseMessage response, string name)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => v.Split(';')[0]).Where(v => v.StartsWith("__Host-smbx-" + name + "=", StringComparison.Ordinal))
                .Select(v => v[(v.IndexOf('=', StringComparison.Ordinal) + 1)..]).LastOrDefault(v => v.Length > 0)
            : null;
    }

    /// <summary>
    /// A form post from a client that handles no cookies itself: it sends a fresh anti-forgery pair and the given
    /// recovery cookie value (missing, tampered or foreign cookies).
    /// </summary>
    public static Task<HttpResponseMessage> PostWithRecoveryCookieAsync(PortalFactory portal, string formPage, string url, string? recoveryCookie, params (string Key, string Value)[] fields) =>
        PostWithCookieAsync(portal, formPage, url, "recovery", recoveryCookie, fields);

    /// <summary>
    /// A form post from a client that handles no cookies itself: a fresh anti-forgery pair from
    /// <paramref name="formPage"/> and the portal cookie <paramref name="cookieName"/> with the given value.
    /// </summary>
    public static async Task<HttpResponseMessage> PostWithCookieAsync(PortalFactory portal, string formPage, string url, string cookieName, string? cookieValue, params (string Key, string Value)[] fields)
    {
        ArgumentNullException.ThrowIfNull(portal);
        using var client = portal.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost"), HandleCookies = false });
        using var page = await client.GetAsync(new Uri(formPage, UriKind.Relative));
        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var antiforgery = SetCookie(page, "af");
        Assert.That(antiforgery, Is.Not.Null);
        var values = fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)).Append(new("__csrf", BrowserSteps.Csrf(await page.Content.ReadAsStringAsync())));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative)) { Content = new FormUrlEncodedContent(values) };
        request.Headers.Add("Cookie", "__Host-smbx-af=" + antiforgery + (cookieValue is null ? "" : $"; __Host-smbx-{cookieName}=" + cookieValue));
        return await client.SendAsync(request);
    }

    /// <summary>A page's HTML without what differs per request (anti-forgery tokens).</summary>
    public static string Comparable(string html) => CsrfValue().Replace(html, "value=\"…\"");

    [GeneratedRegex("<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>")]
    private static partial Regex BackupCodeItem();

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"[^\"]+\"")]
    private static partial Regex CsrfValue();
}
