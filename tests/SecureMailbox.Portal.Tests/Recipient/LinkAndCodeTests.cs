using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Portal.Tests.Recipient;

/// <summary>Bad links and bad codes: forged, expired, reused tokens; wrong, expired, over-used codes; send limits; countries; CSRF.</summary>
[TestFixture]
public sealed class LinkAndCodeTests
{
    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    [TestCase("not-a-token")]
    [TestCase("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [TestCase("%3Cscript%3E")]
    public async Task OpenLink_ForgedToken_IsNotFoundWithoutDetails(string token)
    {
        await _portal.StoreMessageAsync("Hemligt ämne");
        using var client = _portal.Browser();

        var (status, html, _) = await client.PageAsync("/l/" + token);

        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(BrowserSteps.Text(html), Does.Contain("Sidan finns inte").And.Not.Contain("Hemligt"));
    }

    [Test]
    public async Task OpenLink_Expired_IsNotFound()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        _portal.Time.Advance(TimeSpan.FromDays(31));
        using var client = _portal.Browser();

        var (status, _, _) = await client.PageAsync("/l/" + token);
        using var post = await client.PostFormAsync("/l", "", ("token", token));

        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest).Or.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task OpenLink_GetTwice_DoesNotUseTheLink()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var scanner = _portal.Browser();
        Assert.That((await scanner.PageAsync("/l/" + token)).Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await scanner.PageAsync("/l/" + token)).Status, Is.EqualTo(HttpStatusCode.OK));

        using var person = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(person, token);

        Assert.That(BrowserSteps.Text(verify), Does.Contain("+46 70 *** ** 67"));
    }

    [Test]
    public async Task OpenLink_Reused_IsNotFound()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var first = _portal.Browser();
        await RecipientJourney.OpenLinkAsync(first, token);
        using var second = _portal.Browser();

        var (status, _, _) = await second.PageAsync("/l/" + token);
        var page = await first.PageAsync("/l/" + token);

        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task OpenLink_PreSession_NeverStoresTheLinkKeyInClear()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        var reader = _portal.Services.GetRequiredService<SecureMailbox.Vault.Messages.VaultReader>();
        byte[] privateKey;
        using (var unlocked = await reader.UnlockLinkAsync(token, CancellationToken.None))
        {
            privateKey = unlocked!.Key!.ExportPrivateKey();
        }
        using var client = _portal.Browser();
        await RecipientJourney.OpenLinkAsync(client, token);

        var portalFactory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using (var db = await portalFactory.CreateDbContextAsync())
        {
            var preSession = await db.PreSessions.SingleAsync();
            Assert.That(preSession.WrappedLinkKey, Is.Not.Null);
            Assert.That(preSession.WrappedLinkKey!.AsSpan().IndexOf(privateKey), Is.EqualTo(-1));
        }
        foreach (var file in Directory.GetFiles(_portal.Data.Path, "portal.db*"))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes);
            Assert.That(bytes.AsSpan().IndexOf(privateKey), Is.EqualTo(-1), file);
        }
    }

    [Test]
    public async Task OpenLink_ExpiredPreSessions_AreRemovedWhenANewOneStarts()
    {
        var (first, _) = await _portal.StoreMessageAsync("Ett");
        var (second, _) = await _portal.StoreMessageAsync("Två");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, first);
        await RecipientJourney.SendCodeAsync(client, verify);
        _portal.Time.Advance(TimeSpan.FromMinutes(31));

        Assert.That((await client.PageAsync("/verify")).Status, Is.EqualTo(HttpStatusCode.NotFound), "the pre-session has expired");
        using var other = _portal.Browser();
        await RecipientJourney.OpenLinkAsync(other, second);

        var portalFactory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using var db = await portalFactory.CreateDbContextAsync();
        Assert.That(await db.PreSessions.CountAsync(), Is.EqualTo(1));
        Assert.That(await db.SmsCodeRequests.CountAsync(), Is.Zero);
    }

    [Test]
    public async Task Verify_WithoutPreSession_IsNotFound()
    {
        using var client = _portal.Browser();
        Assert.That((await client.PageAsync("/verify")).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await client.PageAsync("/welcome")).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Verify_PostWithoutAntiforgeryToken_IsBadRequest()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        await RecipientJourney.OpenLinkAsync(client, token);

        using var post = await client.PostFormAsync("/verify?handler=Send", "");

        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(_portal.SmsCount(), Is.Zero);
    }

    [Test]
    public async Task CheckCode_Wrong_IsRefusedAndTheRightOneStillWorks()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify);
        var code = _portal.LatestSmsCode();
        var wrong = code == "000000" ? "111111" : "000000";

        using var refused = await RecipientJourney.CheckCodeAsync(client, html, wrong);
        using var accepted = await RecipientJourney.CheckCodeAsync(client, html, code);

        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await refused.Content.ReadAsStringAsync()), Does.Contain("Fel kod"));
        Assert.That(accepted.Location(), Is.EqualTo("/welcome"));
    }

    [Test]
    public async Task CheckCode_AfterTenMinutes_IsExpired()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify);
        var code = _portal.LatestSmsCode();
        _portal.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        using var response = await RecipientJourney.CheckCodeAsync(client, html, code);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await response.Content.ReadAsStringAsync()), Does.Contain("gått ut"));
    }

    [Test]
    public async Task CheckCode_FiveWrongChecks_RefusesEvenTheRightCode()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify);
        var code = _portal.LatestSmsCode();
        var wrong = code == "000000" ? "111111" : "000000";
        for (var i = 0; i < 5; i++)
        {
            using var _ = await RecipientJourney.CheckCodeAsync(client, html, wrong);
        }

        using var response = await RecipientJourney.CheckCodeAsync(client, html, code);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await response.Content.ReadAsStringAsync()), Does.Contain("För många"));
    }

    [Test]
    public async Task CheckCode_UsedOnce_CannotBeUsedAgain()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify);
        var code = _portal.LatestSmsCode();
        using var first = await RecipientJourney.CheckCodeAsync(client, html, code);

        using var again = await RecipientJourney.CheckCodeAsync(client, html, code);

        Assert.That(first.Location(), Is.EqualTo("/welcome"));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task SendCode_StoredOnlyAsHash()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        await RecipientJourney.SendCodeAsync(client, verify);
        var code = _portal.LatestSmsCode();

        var portalDb = await File.ReadAllBytesAsync(Path.Combine(_portal.Data.Path, "portal.db"));
        var wal = Path.Combine(_portal.Data.Path, "portal.db-wal");
        var all = portalDb.Concat(File.Exists(wal) ? await File.ReadAllBytesAsync(wal) : []).ToArray();

        Assert.That(System.Text.Encoding.ASCII.GetString(all), Does.Not.Contain(code));
        Assert.That(_portal.Logs.Lines.Any(l => l.Contains(code, StringComparison.Ordinal)), Is.False, "no code in the logs");
    }

    [Test]
    public async Task SendCode_AgainAtOnce_WaitsAndTheDelayGrows()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);

        var (first, _) = await RecipientJourney.SendCodeAsync(client, verify);
        var (tooSoon, html) = await RecipientJourney.SendCodeAsync(client, verify);
        _portal.Time.Advance(TimeSpan.FromSeconds(31));
        var (second, _) = await RecipientJourney.SendCodeAsync(client, verify);
        _portal.Time.Advance(TimeSpan.FromSeconds(31));
        var (stillTooSoon, _) = await RecipientJourney.SendCodeAsync(client, verify);

        Assert.That(first, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(tooSoon, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(BrowserSteps.Text(html), Does.Contain("Vänta"));
        Assert.That(second, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(stillTooSoon, Is.EqualTo(HttpStatusCode.TooManyRequests), "the second resend waits 60 s");
        Assert.That(_portal.SmsCount(), Is.EqualTo(2));
    }

    [Test]
    public async Task SendCode_SixthSend_IsRefused()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await RecipientJourney.SendCodeAsync(client, verify)).Status);
            _portal.Time.Advance(TimeSpan.FromMinutes(5));
        }

        Assert.That(statuses.Take(5), Is.All.EqualTo(HttpStatusCode.OK));
        Assert.That(statuses[5], Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(_portal.SmsCount(), Is.EqualTo(5));
    }

    [Test]
    public async Task SendCode_ManyLinksToOneNumber_ArePerNumberLimited()
    {
        var sent = 0;
        for (var i = 0; i < 8; i++)
        {
            var (token, _) = await _portal.StoreMessageAsync("Ämne " + i);
            using var client = _portal.Browser();
            var verify = await RecipientJourney.OpenLinkAsync(client, token);
            if ((await RecipientJourney.SendCodeAsync(client, verify)).Status == HttpStatusCode.OK)
            {
                sent++;
            }
        }

        Assert.That(sent, Is.EqualTo(6), "Verification:MaxSendsPerPhonePerHour");
    }

    [Test]
    public async Task SendCode_NumberInBlockedCountry_IsRefusedBeforeSending()
    {
        var (token, result) = await _portal.StoreMessageAsync("Ämne");
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            var linkId = result.Readers.Single(r => !r.IsSender).Link.Id;
            await db.Links.Where(l => l.Id == linkId).ExecuteUpdateAsync(s => s.SetProperty(l => l.Phone, "+12025550123"));
        }
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);

        var (status, html) = await RecipientJourney.SendCodeAsync(client, verify);

        Assert.That(status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(BrowserSteps.Text(html), Does.Contain("kan inte skicka SMS"));
        Assert.That(_portal.SmsCount(), Is.Zero);
    }

    [Test]
    public async Task NotifySender_QueuesOneMailToTheSenderWithoutContent()
    {
        var (token, _) = await _portal.StoreMessageAsync("Hemligt ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);

        using var first = await client.PostFormAsync("/verify?handler=Notify", verify);
        using var second = await client.PostFormAsync("/verify?handler=Notify", verify);

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var queued = await db.OutboundMessages.Include(m => m.Recipients).Where(m => m.Recipients.Any(r => r.Address == PortalFactory.SenderAddress)).ToListAsync();
        Assert.That(queued, Has.Count.EqualTo(1));
        var queue = _portal.Services.GetRequiredService<OutboundQueue>();
        var text = await File.ReadAllTextAsync(queue.ContentPathOf(queued[0].ContentPath));
        Assert.That(text, Does.Contain(PortalFactory.PatientAddress).And.Contain("+46 70 *** ** 67"));
        Assert.That(text, Does.Not.Contain("Hemligt").And.Not.Contain("blodvärden").And.Not.Contain("4567"));
    }

    [Test]
    public async Task Welcome_TamperedPreSessionCookieKey_IsRefusedNotAServerError()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var (status, linkPage, _) = await client.PageAsync("/l/" + token);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        using var exchanged = await client.PostFormAsync("/l", linkPage, ("token", token));
        var cookie = RecoveryJourney.SetCookie(exchanged, "link");
        Assert.That(cookie, Has.Length.EqualTo(87));
        var verify = await client.PageAsync("/verify");
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify.Html);
        using var check = await RecipientJourney.CheckCodeAsync(client, html, _portal.LatestSmsCode());
        Assert.That(check.Location(), Is.EqualTo("/welcome"));
        // The same row (id part), another key: the link key does not unwrap.
        var tampered = cookie![..50] + (cookie[50] == 'A' ? 'B' : 'A') + cookie[51..];

        using var response = await RecoveryJourney.PostWithCookieAsync(_portal, "/signin", "/welcome", "link", tampered,
            ("password", RecipientJourney.Password), ("confirm", RecipientJourney.Password));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        Assert.That(await db.Accounts.CountAsync(a => a.Email == PortalFactory.PatientAddress && a.State == SecureMailbox.Vault.Accounts.AccountState.Active), Is.Zero);
    }

    [Test]
    public async Task Welcome_HostilePasswords_AreRefusedCalmly()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify);
        using var check = await RecipientJourney.CheckCodeAsync(client, html, _portal.LatestSmsCode());
        var welcome = await client.PageAsync("/welcome");

        using var common = await client.PostFormAsync("/welcome", welcome.Html, ("password", "password123"), ("confirm", "password123"));
        using var shortOne = await client.PostFormAsync("/welcome", welcome.Html, ("password", "kort"), ("confirm", "kort"));
        using var control = await client.PostFormAsync("/welcome", welcome.Html, ("password", "abc\u0000defghijk"), ("confirm", "abc\u0000defghijk"));
        var huge = new string('x', 1024 * 1024);
        using var megabyte = await client.PostFormAsync("/welcome", welcome.Html, ("password", huge), ("confirm", huge));
        using var mismatch = await client.PostFormAsync("/welcome", welcome.Html, ("password", "en helt okej fras"), ("confirm", "en annan fras"));

        Assert.That(common.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await common.Content.ReadAsStringAsync()), Does.Contain("för vanligt"));
        Assert.That(shortOne.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(control.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((int)megabyte.StatusCode, Is.EqualTo(400).Or.EqualTo(413));
        Assert.That(mismatch.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var portalFactory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using var db = await portalFactory.CreateDbContextAsync();
        Assert.That(await db.PreSessions.CountAsync(), Is.EqualTo(1), "still waiting for a good password");
    }
}
