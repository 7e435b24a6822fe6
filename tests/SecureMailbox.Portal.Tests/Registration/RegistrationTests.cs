using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Tests.Registration;

/// <summary>Self-service registration ("Kan vem som helst skapa ett konto?"): mailed link, SMS code, password.</summary>
[TestFixture]
public sealed partial class RegistrationTests
{
    private const string Address = "ny.person@example.se";
    private const string Phone = "070-765 43 21";
    private const string PhoneE164 = "+46707654321";

    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private async Task<T> VaultAsync<T>(Func<VaultDbContext, Task<T>> query)
    {
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    private async Task<T> PortalDbAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    private static async Task<HttpResponseMessage> RequestAsync(HttpClient client, string email, string phone)
    {
        var page = await client.PageAsync("/register");
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.OK));
        return await client.PostFormAsync("/register", page.Html, ("email", email), ("phone", phone));
    }

    /// <summary>The registration link in the newest mail to the address.</summary>
    private async Task<string> LinkTokenAsync(string address = Address)
    {
        // Queued mails share the test's frozen clock, so they are found by what they hold, not by their order.
        var links = (await _portal.QueuedMailToAsync(address)).Select(m => RegisterLink().Match(m.TextBody ?? "")).Where(m => m.Success).ToList();
        Assert.That(links, Has.Count.EqualTo(1), "one mail holds a registration link");
        return links[0].Groups[1].Value;
    }

    private static async Task<HttpResponseMessage> UseLinkAsync(HttpClient client, string token)
    {
        var page = await client.PageAsync("/register/c/" + token);
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.OK));
        return await client.PostFormAsync("/register/c", page.Html, ("token", token));
    }

    [Test]
    public async Task Register_MailedLink_SmsCode_Password_SignedInWithAFreshKeyPair()
    {
        using var client = _portal.Browser();
        using var requested = await RequestAsync(client, "  Ny.Person@Example.SE ", Phone);
        Assert.That(requested.Location(), Is.EqualTo("/register/sent"));
        var token = await LinkTokenAsync();
        Assert.That(await PortalDbAsync(db => db.Registrations.Select(r => r.Email).SingleAsync()), Is.EqualTo(Address));
        var portalFile = System.Text.Encoding.ASCII.GetString(await File.ReadAllBytesAsync(Path.Combine(_portal.Data.Path, "portal.db")));
        Assert.That(portalFile, Does.Not.Contain(token), "only the token's hash is kept");

        // Looking at the link twice (as a mail scanner does) uses nothing.
        Assert.That((await client.PageAsync("/register/c/" + token)).Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_portal.SmsCount(), Is.Zero);
        using var used = await UseLinkAsync(client, token);
        Assert.That(used.Location(), Is.EqualTo("/register/continue"));
        var verify = await client.PageAsync("/register/continue");
        Assert.That(BrowserSteps.Text(verify.Html), Does.Contain("+46 70 *** ** 21"));
        var code = _portal.LatestSmsCode();

        using var wrong = await client.PostFormAsync("/register/continue?handler=Check", verify.Html, ("code", code == "000000" ? "111111" : "000000"));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        using var right = await client.PostFormAsync("/register/continue?handler=Check", verify.Html, ("code", code));
        Assert.That(right.Location(), Is.EqualTo("/register/continue"));
        var passwordStep = await client.PageAsync("/register/continue");
        Assert.That(passwordStep.Html, Does.Contain("handler=Password"));
        using var weak = await client.PostFormAsync("/register/continue?handler=Password", passwordStep.Html, ("password", "12345678"), ("confirm", "12345678"));
        Assert.That(weak.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        using var created = await client.PostFormAsync("/register/continue?handler=Password", passwordStep.Html, ("password", RecipientJourney.Password), ("confirm", RecipientJourney.Password));
        Assert.That(created.Location(), Is.EqualTo("/mailbox"));
        Assert.That((await client.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.OK));

        var account = await VaultAsync(db => db.Accounts.SingleAsync(a => a.Email == Address));
        Assert.That(account.State, Is.EqualTo(AccountState.Active));
        Assert.That(account.Phone, Is.EqualTo(PhoneE164));
        Assert.That(account.Plan, Is.EqualTo(Plan.Basic));
        Assert.That(account.PublicKey, Does.StartWith("age1"));
        Assert.That(await VaultAsync(db => db.AccountKeys.CountAsync(k => k.AccountId == account.Id && k.Kind == AccountKeyKind.Password)), Is.EqualTo(1));
        Assert.That(await PortalDbAsync(db => db.Registrations.CountAsync()), Is.Zero, "the registration is gone once used");
        using var signIn = await RecipientJourney.SignInAsync(_portal.Browser(), Address, RecipientJourney.Password);
        Assert.That(signIn.Location(), Is.EqualTo("/mailbox"));
    }

    [Test]
    public async Task Register_ExistingAccount_SameAnswer_AndAReminderInsteadOfALink()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using (var patient = _portal.Browser())
        {
            await RecipientJourney.CreateAccountAsync(_portal, patient, token);
        }
        using var client = _portal.Browser();

        using var existing = await RequestAsync(client, PortalFactory.PatientAddress, Phone);
        using var unknown = await RequestAsync(client, Address, Phone);

        Assert.That(existing.StatusCode, Is.EqualTo(unknown.StatusCode));
        Assert.That(existing.Location(), Is.EqualTo(unknown.Location()));
        Assert.That(await existing.Content.ReadAsStringAsync(), Is.EqualTo(await unknown.Content.ReadAsStringAsync()));
        var mails = await _portal.QueuedMailToAsync(PortalFactory.PatientAddress);
        Assert.That(mails.Select(m => m.TextBody), Has.Exactly(1).Contain("har redan ett konto"));
        Assert.That(mails.Select(m => m.TextBody), Has.None.Contain("/register/c/"));
        Assert.That(await PortalDbAsync(db => db.Registrations.CountAsync(r => r.Email == PortalFactory.PatientAddress)), Is.Zero);
    }

    [Test]
    public async Task Register_PendingAddress_BecomesActive_AndAnEarlierMessageLinkIsClaimedAtSignIn()
    {
        var (messageToken, stored) = await _portal.StoreMessageAsync("Väntar på dig", recipient: Address, phone: PhoneE164);
        using var client = _portal.Browser();
        using var requested = await RequestAsync(client, Address, Phone);
        using var used = await UseLinkAsync(client, await LinkTokenAsync());
        var verify = await client.PageAsync("/register/continue");
        using var right = await client.PostFormAsync("/register/continue?handler=Check", verify.Html, ("code", _portal.LatestSmsCode()));
        var passwordStep = await client.PageAsync("/register/continue");
        using var created = await client.PostFormAsync("/register/continue?handler=Password", passwordStep.Html, ("password", RecipientJourney.Password), ("confirm", RecipientJourney.Password));
        Assert.That(created.Location(), Is.EqualTo("/mailbox"));
        Assert.That(BrowserSteps.Text((await client.PageAsync("/mailbox")).Html), Does.Not.Contain("Väntar på dig"), "still behind its link key");

        var linkVerify = await RecipientJourney.OpenLinkAsync(client, messageToken);
        Assert.That(BrowserSteps.Text(linkVerify), Does.Contain("redan ett konto"));
        using var signedIn = await RecipientJourney.SignInAsync(client, Address, RecipientJourney.Password, "/claim");
        Assert.That(signedIn.Location(), Does.StartWith("/mailbox/m/"));
        var read = await client.PageAsync(signedIn.Location());
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain(PortalFactory.BodySentence));
        var accountId = await VaultAsync(db => db.Accounts.Where(a => a.Email == Address).Select(a => a.Id).SingleAsync());
        Assert.That(await VaultAsync(db => db.MailboxItems.CountAsync(i => i.MessageId == stored.MessageId && i.AccountId == accountId && i.PendingLinkId != null)), Is.Zero);
    }

    [Test]
    public async Task RegisterLink_IsSingleUse_AndExpires()
    {
        using var client = _portal.Browser();
        using (await RequestAsync(client, Address, Phone))
        {
        }
        var first = await LinkTokenAsync();
        using (await RequestAsync(client, "annan@example.se", Phone))
        {
        }
        var second = await LinkTokenAsync("annan@example.se");

        using var used = await UseLinkAsync(client, first);
        using var otherBrowser = _portal.Browser();
        using var reused = await otherBrowser.PostFormAsync("/register/c", (await otherBrowser.PageAsync("/register")).Html, ("token", first));
        _portal.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        var expired = await client.PageAsync("/register/c/" + second);

        Assert.That(used.Location(), Is.EqualTo("/register/continue"));
        Assert.That(reused.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(expired.Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(BrowserSteps.Text(expired.Html), Does.Contain("går inte längre att använda"));
        Assert.That((await client.PageAsync("/register/c/not-a-token")).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task RegisterContinue_WithoutTheCookie_StartsOver()
    {
        using var client = _portal.Browser();
        var (status, _, response) = await client.PageAsync("/register/continue");
        using var post = await client.PostFormAsync("/register/continue?handler=Password", (await client.PageAsync("/register")).Html, ("password", RecipientJourney.Password), ("confirm", RecipientJourney.Password));

        Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Location(), Is.EqualTo("/register"));
        Assert.That(post.Location(), Is.EqualTo("/register"));
        Assert.That(await VaultAsync(db => db.Accounts.CountAsync()), Is.Zero);
    }

    [TestCase("a@b")]
    [TestCase("a@@b.se")]
    [TestCase("no-at-sign.se")]
    [TestCase("x@example.se\r\nBcc: victim@example.org")]
    [TestCase("<script>@example.se")]
    [TestCase("two@at@example.se")]
    [TestCase("")]
    public async Task Register_BrokenAddress_IsRefusedAndNothingIsMailed(string email)
    {
        using var client = _portal.Browser();

        using var response = await RequestAsync(client, email, Phone);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await response.Content.ReadAsStringAsync()), Does.Contain("giltig e-postadress"));
        Assert.That(await VaultAsync(db => db.OutboundMessages.CountAsync()), Is.Zero);
        Assert.That(await PortalDbAsync(db => db.Registrations.CountAsync()), Is.Zero);
    }

    [TestCase("abc")]
    [TestCase("+1 202 555 0100")]
    [TestCase("070")]
    [TestCase("+4670123456789012345678901234567890")]
    public async Task Register_BrokenPhone_IsRefusedAndNothingIsMailed(string phone)
    {
        using var client = _portal.Browser();

        using var response = await RequestAsync(client, Address, phone);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await response.Content.ReadAsStringAsync()), Does.Contain("giltigt mobilnummer"));
        Assert.That(await VaultAsync(db => db.OutboundMessages.CountAsync()), Is.Zero);
    }

    /// <summary>A NUL byte (no browser sends one) is refused by ASP.NET Core before the page runs: a bare 400.</summary>
    [Test]
    public async Task Register_NulInAField_IsRefusedAndNothingIsMailed()
    {
        using var client = _portal.Browser();

        using var phone = await RequestAsync(client, Address, "070-123 45 67\u0000");
        using var email = await RequestAsync(client, "a\u0000b@example.se", Phone);

        Assert.That(phone.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(email.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await VaultAsync(db => db.OutboundMessages.CountAsync()), Is.Zero);
        Assert.That(await PortalDbAsync(db => db.Registrations.CountAsync()), Is.Zero);
    }

    [Test]
    public async Task Register_OverlongAddress_IsRefused()
    {
        using var client = _portal.Browser();

        using var response = await RequestAsync(client, new string('a', 5000) + "@example.se", Phone);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain(new string('a', 300)), "not echoed back");
    }

    [Test]
    public async Task Register_ManyRequestsForOneAddress_AreLimited()
    {
        using var client = _portal.Browser();
        for (var i = 0; i < SecureMailbox.Portal.Security.RateLimitPolicies.RegistrationPerAddress.Limit; i++)
        {
            using var ok = await RequestAsync(client, Address, Phone);
            Assert.That(ok.Location(), Is.EqualTo("/register/sent"));
        }

        using var limited = await RequestAsync(client, Address, Phone);

        Assert.That(limited.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(await _portal.QueuedMailToAsync(Address), Has.Count.EqualTo(SecureMailbox.Portal.Security.RateLimitPolicies.RegistrationPerAddress.Limit));
    }

    [GeneratedRegex(@"/register/c/([A-Za-z0-9_-]{43})")]
    private static partial Regex RegisterLink();
}
