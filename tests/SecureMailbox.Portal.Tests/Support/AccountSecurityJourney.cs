using System.Net;
using System.Text.RegularExpressions;
using OtpNet;
using TotpCore = SecureMailbox.Portal.Accounts.TwoFactor.Totp;

namespace SecureMailbox.Portal.Tests.Support;

/// <summary>The steps of the account-security pages a person takes: turning 2FA on, confirming it's them.</summary>
public static partial class AccountSecurityJourney
{
    /// <summary>A signed-in client of a fresh account (the patient's, from a first message).</summary>
    public static async Task<HttpClient> SignedInAsync(PortalFactory portal, string subject = "Provsvar")
    {
        ArgumentNullException.ThrowIfNull(portal);
        var (token, _) = await portal.StoreMessageAsync(subject);
        var client = portal.Browser();
        await RecipientJourney.CreateAccountAsync(portal, client, token);
        return client;
    }

    /// <summary>Turns 2FA on through Settings → ID check; returns the TOTP secret and the ten backup codes.</summary>
    public static async Task<(byte[] Secret, List<string> Codes)> EnableTwoFactorAsync(PortalFactory portal, HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(portal);
        const string page = "/settings/two-factor";
        var start = await client.PageAsync(page);
        using var started = await client.PostFormAsync(page + "?handler=Start", start.Html, ("password", RecipientJourney.Password), ("installed", "true"));
        Assert.That(started.Location(), Is.EqualTo(page));
        var sms = await client.PageAsync(page);
        using var checkedSms = await client.PostFormAsync(page + "?handler=Sms", sms.Html, ("code", portal.LatestSmsCode()));
        var qr = await client.PageAsync(page);
        var match = SecretField().Match(qr.Html);
        Assert.That(match.Success, Is.True, "the page shows the secret");
        var secret = Base32Encoding.ToBytes(match.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal));
        using var confirmed = await client.PostFormAsync(page + "?handler=Confirm", qr.Html, ("code", TotpCore.ComputeAt(secret, portal.Time.GetUtcNow())));
        var html = await confirmed.Content.ReadAsStringAsync();
        Assert.That(confirmed.StatusCode, Is.EqualTo(HttpStatusCode.OK), html);
        var codes = BackupCodeItem().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.That(codes, Has.Count.EqualTo(10));
        // The next code must be for a later time step (replay protection), as in real use.
        portal.Time.Advance(TimeSpan.FromSeconds(30));
        return (secret, codes);
    }

    /// <summary>Settings → Confirm it's you: password and, if given, an app code or a backup code.</summary>
    public static async Task<HttpResponseMessage> ConfirmAsync(HttpClient client, string returnUrl, string password, string? code = null, string? backupCode = null)
    {
        var page = await client.PageAsync("/settings/confirm?returnUrl=" + Uri.EscapeDataString(returnUrl));
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.OK));
        var fields = new List<(string, string)> { ("password", password), ("returnUrl", returnUrl) };
        if (code is not null)
        {
            fields.Add(("code", code));
        }
        if (backupCode is not null)
        {
            fields.Add(("backupCode", backupCode));
        }
        return await client.PostFormAsync("/settings/confirm", page.Html, [.. fields]);
    }

    [GeneratedRegex("<code class=\"secret\">([A-Z2-7 ]+)</code>")]
    private static partial Regex SecretField();

    [GeneratedRegex("<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>")]
    private static partial Regex BackupCodeItem();
}
