using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Tests.Accounts;

/// <summary>"Förlorat din authenticator": password plus an SMS or backup code turns 2FA off and signs in, through the real host.</summary>
[TestFixture]
public sealed class LostAuthenticatorTests
{
    private const string Page = "/signin/lost-authenticator";

    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private PortalDbContext PortalDb() => _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();

    /// <summary>An account with one message and 2FA on; returns the item id and the backup codes (the client is closed).</summary>
    private async Task<(Guid ItemId, List<string> Codes)> TwoFactorAccountAsync()
    {
        var (client, itemId) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        using (client)
        {
            var (_, codes) = await AccountSecurityJourney.EnableTwoFactorAsync(_portal, client);
            return (itemId, codes);
        }
    }

    private static async Task<HttpResponseMessage> CredentialsAsync(HttpClient client, string email, string password)
    {
        var page = await client.PageAsync(Page);
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.OK));
        return await client.PostFormAsync(Page, page.Html, ("email", email), ("password", password));
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string handler, params (string Key, string Value)[] fields)
    {
        var page = await client.PageAsync(Page);
        return await client.PostFormAsync(Page + "?handler=" + handler, page.Html, fields);
    }

    private async Task AssertTwoFactorOffAsync(Guid itemId, HttpClient client)
    {
        var accountId = await RecoveryJourney.AccountIdAsync(_portal);
        await using (var db = PortalDb())
        {
            Assert.That(await db.TwoFactorSecrets.CountAsync(), Is.Zero);
            Assert.That(await db.BackupCodes.CountAsync(), Is.Zero);
            Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
            Assert.That(await db.SecurityEvents.CountAsync(e => e.AccountId == accountId && e.Kind == SecurityEventKind.TwoFactorRecovered), Is.EqualTo(1));
        }
        await using (var vault = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContext())
        {
            Assert.That(await vault.AccountKeys.Where(k => k.AccountId == accountId).Select(k => k.Kind).ToListAsync(), Is.EqualTo(new[] { AccountKeyKind.Password }));
            Assert.That(await vault.MailboxItems.CountAsync(i => i.LockedAt != null), Is.Zero, "nothing is lost");
        }
        // Signed in, the message reads, and the next sign-in needs the password only.
        Assert.That(BrowserSteps.Text((await client.PageAsync($"/mailbox/m/{itemId}")).Html), Does.Contain(PortalFactory.BodySentence));
        using var next = _portal.Browser();
        using var signIn = await RecipientJourney.SignInAsync(next, PortalFactory.PatientAddress, RecipientJourney.Password);
        Assert.That(signIn.Location(), Is.EqualTo("/mailbox"));
        var notices = await _portal.QueuedMailToAsync(PortalFactory.PatientAddress);
        Assert.That(notices.Count(m => (m.TextBody ?? "").Contains("Förlorat din authenticator", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public async Task SmsCode_TurnsTwoFactorOff_SignsIn_AndSaysToTurnItOnAgain()
    {
        var (itemId, _) = await TwoFactorAccountAsync();
        using var client = _portal.Browser();
        var signInPage = BrowserSteps.Text((await client.PageAsync("/signin")).Html);
        Assert.That(signInPage, Does.Contain("Jag har tvåfaktorsinloggning").And.Contain("Förlorat din authenticator?"));

        using (var credentials = await CredentialsAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(credentials.Location(), Is.EqualTo(Page));
        }
        var confirm = BrowserSteps.Text((await client.PageAsync(Page)).Html);
        Assert.That(confirm, Does.Contain("Vi har skickat en kod till ditt registrerade mobilnummer"));
        Assert.That((await client.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"), "not signed in before the code");
        await using (var db = PortalDb())
        {
            var request = await db.RecoveryRequests.SingleAsync();
            Assert.That(request.Purpose, Is.EqualTo(RecoveryPurpose.LostAuthenticator));
            Assert.That(request.WrappedKey, Is.Not.Null, "the password's key waits wrapped under the cookie's key");
        }

        using var done = await PostAsync(client, "Sms", ("code", _portal.LatestSmsCode()));
        var html = BrowserSteps.Text(await done.Content.ReadAsStringAsync());
        Assert.That(done.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("Tvåfaktorsinloggning är nu avaktiverad — aktivera den igen").And.Contain("href=\"/settings/two-factor\""));
        await AssertTwoFactorOffAsync(itemId, client);
    }

    [Test]
    public async Task BackupCode_TurnsTwoFactorOff_AndIsUsedUp()
    {
        var (itemId, codes) = await TwoFactorAccountAsync();
        using var client = _portal.Browser();
        using (var credentials = await CredentialsAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(credentials.Location(), Is.EqualTo(Page));
        }
        _portal.LatestSmsCode();
        using var done = await PostAsync(client, "BackupCode", ("backupCode", codes[3]));
        Assert.That(done.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(await done.Content.ReadAsStringAsync()), Does.Contain("Tvåfaktorsinloggning är nu avaktiverad"));
        await AssertTwoFactorOffAsync(itemId, client);
        await using var db = PortalDb();
        Assert.That(await db.SecurityEvents.CountAsync(e => e.Kind == SecurityEventKind.BackupCodeUsed), Is.EqualTo(1));
    }

    [Test]
    public async Task WrongCodes_Refused_TwoFactorStaysOn_FifthEndsTheRequest()
    {
        var (_, codes) = await TwoFactorAccountAsync();
        using var client = _portal.Browser();
        using (var credentials = await CredentialsAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(credentials.Location(), Is.EqualTo(Page));
        }
        var code = _portal.LatestSmsCode();
        var wrongSms = code == "000000" ? "111111" : "000000";
        using (var wrong = await PostAsync(client, "Sms", ("code", wrongSms)))
        {
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(BrowserSteps.Text(await wrong.Content.ReadAsStringAsync()), Does.Contain("Koden stämmer inte"));
        }
        using (var wrongBackup = await PostAsync(client, "BackupCode", ("backupCode", "AAAAA-BBBBB")))
        {
            Assert.That(wrongBackup.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(BrowserSteps.Text(await wrongBackup.Content.ReadAsStringAsync()), Does.Contain("Reservkoden stämmer inte"));
        }
        // Expired: the right SMS code after 11 minutes is refused.
        _portal.Time.Advance(TimeSpan.FromMinutes(11));
        using (var expired = await PostAsync(client, "Sms", ("code", code)))
        {
            Assert.That(expired.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        using (var fourth = await PostAsync(client, "Sms", ("code", wrongSms)))
        {
            Assert.That(fourth.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        using (var fifth = await PostAsync(client, "BackupCode", ("backupCode", "CCCCC-DDDDD")))
        {
            Assert.That(BrowserSteps.Text(await fifth.Content.ReadAsStringAsync()), Does.Contain("För många felaktiga försök"));
        }
        // The request is gone: even a right backup code now only leads back to the start.
        using (var late = await PostAsync(client, "BackupCode", ("backupCode", codes[0])))
        {
            Assert.That(late.Location(), Is.EqualTo(Page));
        }
        await using var db = PortalDb();
        Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
        Assert.That(await db.TwoFactorSecrets.SingleAsync(), Has.Property("EnabledAt").Not.Null);
        Assert.That(await db.BackupCodes.CountAsync(), Is.EqualTo(10), "no code was used");
        Assert.That(await db.SecurityEvents.CountAsync(e => e.Kind == SecurityEventKind.SecondFactorFailed), Is.EqualTo(5));
        Assert.That((await client.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"));
    }

    [Test]
    public async Task WrongPassword_AnswersLikeUnknownAccount_NothingSent()
    {
        await TwoFactorAccountAsync();
        var smsBefore = _portal.SmsCount();
        using var first = _portal.Browser();
        using var wrong = await CredentialsAsync(first, PortalFactory.PatientAddress, "fel lösenord helt klart");
        using var second = _portal.Browser();
        using var unknown = await CredentialsAsync(second, "nobody@nowhere.example", "fel lösenord helt klart");
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var wrongHtml = RecoveryJourney.Comparable(await wrong.Content.ReadAsStringAsync());
        Assert.That(wrongHtml, Is.EqualTo(RecoveryJourney.Comparable(await unknown.Content.ReadAsStringAsync())));
        Assert.That(BrowserSteps.Text(wrongHtml), Does.Contain("name=\"password\""));
        Assert.That(_portal.SmsCount(), Is.EqualTo(smsBefore));
        await using var db = PortalDb();
        Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
        Assert.That(await db.SecurityEvents.CountAsync(e => e.Kind == SecurityEventKind.SignInFailed), Is.EqualTo(1), "the account's log records the failure");
    }

    [Test]
    public async Task AccountWithoutTwoFactor_ToldToSignInAsUsual_NothingChanges()
    {
        var (client, _) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();
        var smsBefore = _portal.SmsCount();
        using var browser = _portal.Browser();
        using var response = await CredentialsAsync(browser, PortalFactory.PatientAddress, RecipientJourney.Password);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(await response.Content.ReadAsStringAsync()), Does.Contain("Ditt konto har inte tvåfaktorsinloggning"));
        Assert.That(_portal.SmsCount(), Is.EqualTo(smsBefore));
        Assert.That((await browser.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"), "no session from this page");
        await using var db = PortalDb();
        Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
    }

    [Test]
    public async Task HostileInput_Refused()
    {
        await TwoFactorAccountAsync();
        using var browser = _portal.Browser();
        foreach (var (email, password) in new[]
        {
            (new string('a', 400) + "@patient.example", RecipientJourney.Password),
            ("anna\u0001@patient.example", RecipientJourney.Password),
            (PortalFactory.PatientAddress, new string('x', 300)),
            (PortalFactory.PatientAddress, ""),
            ("' OR 1=1 --", "' OR 1=1 --"),
        })
        {
            using var response = await CredentialsAsync(browser, email, password);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), email);
        }
        using (var noToken = await browser.PostFormAsync(Page, "", ("email", PortalFactory.PatientAddress), ("password", RecipientJourney.Password)))
        {
            Assert.That(noToken.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }

        // Posts to the code step without the cookie, with a tampered one, or with garbage codes.
        using var real = _portal.Browser();
        using var started = await CredentialsAsync(real, PortalFactory.PatientAddress, RecipientJourney.Password);
        var cookie = RecoveryJourney.SetCookie(started, "recovery");
        Assert.That(cookie, Is.Not.Null);
        var code = _portal.LatestSmsCode();
        foreach (var value in new string?[] { null, (cookie![0] == 'A' ? "B" : "A") + cookie[1..], "garbage" })
        {
            using var response = await RecoveryJourney.PostWithRecoveryCookieAsync(_portal, Page, Page + "?handler=Sms", value, ("code", code));
            Assert.That(response.Location(), Is.EqualTo(Page), value ?? "no cookie");
        }
        // The right id with a tampered key part: the code is right, but the wrapped key does not open; nothing changes.
        var badKey = cookie[..44] + (cookie[44] == 'A' ? "B" : "A") + cookie[45..];
        using (var response = await RecoveryJourney.PostWithRecoveryCookieAsync(_portal, Page, Page + "?handler=Sms", badKey, ("code", code)))
        {
            Assert.That(response.Location(), Is.EqualTo(Page));
        }
        foreach (var garbage in new[] { "'; DROP TABLE TwoFactorSecrets; --", "\u0000", new string('9', 5000) })
        {
            using var response = await PostAsync(real, "BackupCode", ("backupCode", garbage));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        await using var db = PortalDb();
        Assert.That(await db.TwoFactorSecrets.SingleAsync(), Has.Property("EnabledAt").Not.Null);
        Assert.That((await real.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"));
    }

    [Test]
    public async Task SecondFactorPage_LinksHere()
    {
        await TwoFactorAccountAsync();
        using var client = _portal.Browser();
        using var signIn = await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password);
        Assert.That(signIn.Location(), Is.EqualTo("/signin/second-factor"));
        var page = BrowserSteps.Text((await client.PageAsync("/signin/second-factor")).Html);
        Assert.That(page, Does.Contain("href=\"/signin/lost-authenticator\"").And.Contain("Förlorat din authenticator?"));
    }
}
