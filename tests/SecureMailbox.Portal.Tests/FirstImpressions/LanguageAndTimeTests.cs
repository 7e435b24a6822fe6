using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Notifications;

namespace SecureMailbox.Portal.Tests.FirstImpressions;

/// <summary>The first pages in the reader's language, the language switch, and times and sizes as a reader reads them.</summary>
[TestFixture]
public sealed class LanguageAndTimeTests
{
    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private HttpClient BrowserIn(string acceptLanguage)
    {
        var client = _portal.Browser();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(acceptLanguage);
        return client;
    }

    [TestCase("en-US,en;q=0.9", "You have received a secure message", "Open the message")]
    [TestCase("en-GB", "You have received a secure message", "Open the message")]
    [TestCase("sv-SE,sv;q=0.9,en;q=0.5", "Du har fått ett säkert meddelande", "Öppna meddelandet")]
    [TestCase("de-DE,fr;q=0.8", "Du har fått ett säkert meddelande", "Öppna meddelandet")]
    public async Task LinkPage_BrowserLanguage_DecidesBeforeAnyChoice(string acceptLanguage, string heading, string button)
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = BrowserIn(acceptLanguage);

        var (status, html, _) = await client.PageAsync("/l/" + token);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(html), Does.Contain(heading).And.Contain(button));
        Assert.That(html, Does.Contain($"<html lang=\"{(heading.StartsWith("You", StringComparison.Ordinal) ? "en" : "sv")}\""));
    }

    [Test]
    public async Task EnglishBrowser_LinkCodePasswordReadReply_NoSwedishOnTheWay()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = BrowserIn("en-US,en;q=0.9");
        string[] swedishOnly = ["Öppna", "Skicka kod", "Bekräfta", "Välj", "Lösenord", "Inkorg", "Logga ut", "Svara", "Inställningar", "meddelande"];

        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        AssertNoSwedish(verify, swedishOnly, "/verify");
        var (status, codePage) = await RecipientJourney.SendCodeAsync(client, verify);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        AssertNoSwedish(codePage, swedishOnly, "/verify after send");
        Assert.That(File.ReadAllText(Directory.GetFiles(Path.Combine(_portal.Data.Path, "sms-outbox")).Single()), Does.Contain("code").IgnoreCase);
        using var check = await RecipientJourney.CheckCodeAsync(client, codePage, _portal.LatestSmsCode());
        var welcome = await client.PageAsync(check.Location());
        AssertNoSwedish(welcome.Html, swedishOnly, "/welcome");
        using var created = await client.PostFormAsync("/welcome", welcome.Html, ("password", RecipientJourney.Password), ("confirm", RecipientJourney.Password));
        var read = await client.PageAsync(created.Location());
        AssertNoSwedish(read.Html, swedishOnly, "the message");
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain("Reply").And.Contain("Inbox").And.Contain(PortalFactory.BodySentence));
        var replyPage = await client.PageAsync(created.Location() + "/reply");
        AssertNoSwedish(replyPage.Html, swedishOnly, "reply");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(BrowserSteps.Csrf(replyPage.Html)), "__csrf" },
            { new StringContent("false"), "all" },
            { new StringContent("Thank you."), "body" },
        };
        using var reply = await client.PostAsync(new Uri(created.Location() + "/reply/send", UriKind.Relative), form);
        var sent = await client.PageAsync(reply.Location());
        Assert.That(BrowserSteps.Text(sent.Html), Does.Contain("Your reply was sent securely."));
        AssertNoSwedish(sent.Html, swedishOnly, "sent");

        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var account = await db.Accounts.SingleAsync(a => a.Email == PortalFactory.PatientAddress);
        Assert.That(account.Language, Is.EqualTo("en"), "the account keeps the language its first pages were in (notifications too)");
    }

    private static void AssertNoSwedish(string html, string[] words, string where)
    {
        var text = BrowserSteps.Text(System.Text.RegularExpressions.Regex.Replace(html, "<[^>]+>", " "));
        // The language switch names the other language in that language; the sender's own message text is not the portal's.
        text = text.Replace("Svenska", "", StringComparison.Ordinal).Replace(PortalFactory.BodySentence, "", StringComparison.Ordinal)
            .Replace("Hej Anna,", "", StringComparison.Ordinal).Replace("Dr Sven Läkare", "", StringComparison.Ordinal);
        foreach (var word in words)
        {
            Assert.That(text, Does.Not.Contain(word), $"{where} shows Swedish: {word}");
        }
        Assert.That(text, Does.Not.Match("[åäöÅÄÖ]"), $"{where} shows Swedish letters");
    }

    [Test]
    public async Task LanguageSwitch_Post_RemembersAndGoesBack()
    {
        using var client = BrowserIn("sv-SE");
        var signIn = await client.PageAsync("/signin?returnUrl=%2Fmailbox");
        Assert.That(signIn.Html, Does.Contain("action=\"/language\"").And.Contain(">English</button>"));

        using var switched = await client.PostFormAsync("/language", signIn.Html, ("language", "en"), ("returnUrl", "/signin?returnUrl=%2Fmailbox"));
        var after = await client.PageAsync(switched.Location());

        Assert.That(switched.Location(), Is.EqualTo("/signin?returnUrl=%2Fmailbox"));
        Assert.That(after.Html, Does.Contain("<html lang=\"en\"").And.Contain(">Svenska</button>"));
        Assert.That(switched.Headers.GetValues("Set-Cookie").Single(c => c.Contains("lang=", StringComparison.Ordinal)), Does.Contain("HttpOnly").IgnoreCase);
    }

    [TestCase("https://evil.example/", "en", HttpStatusCode.Redirect, "/")]
    [TestCase("//evil.example/x", "en", HttpStatusCode.Redirect, "/")]
    [TestCase("/\\evil.example", "sv", HttpStatusCode.Redirect, "/")]
    [TestCase("javascript:alert(1)", "en", HttpStatusCode.Redirect, "/")]
    [TestCase("/mailbox", "de", HttpStatusCode.BadRequest, null)]
    [TestCase("/mailbox", "", HttpStatusCode.BadRequest, null)]
    [TestCase("/mailbox", "en\r\nSet-Cookie: x=1", HttpStatusCode.BadRequest, null)]
    public async Task LanguageSwitch_HostileInput_StaysLocalOrIsRefused(string returnUrl, string language, HttpStatusCode expected, string? location)
    {
        using var client = BrowserIn("sv-SE");
        var page = await client.PageAsync("/signin");

        using var response = await client.PostFormAsync("/language", page.Html, ("language", language), ("returnUrl", returnUrl));

        Assert.That(response.StatusCode, Is.EqualTo(expected));
        if (location is not null)
        {
            Assert.That(response.Location(), Is.EqualTo(location));
        }
    }

    [Test]
    public async Task LanguageSwitch_WithoutAntiforgeryToken_IsRefused()
    {
        using var client = BrowserIn("sv-SE");
        using var response = await client.PostFormAsync("/language", "", ("language", "en"), ("returnUrl", "/"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task LanguageSwitch_SignedIn_ChangesTheAccountsLanguage()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = BrowserIn("sv-SE");
        var url = await RecipientJourney.CreateAccountAsync(_portal, client, token);
        var page = await client.PageAsync(url);

        using var switched = await client.PostFormAsync("/language", page.Html, ("language", "en"), ("returnUrl", url));

        Assert.That(switched.Location(), Is.EqualTo(url));
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That((await db.Accounts.SingleAsync(a => a.Email == PortalFactory.PatientAddress)).Language, Is.EqualTo("en"));
        var settings = await client.PageAsync("/settings");
        Assert.That(settings.Html, Does.Contain("<option value=\"en\" selected=\"selected\">"));
    }

    [Test]
    public void Format_StockholmByDefault_InTheLanguagesForm()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Stockholm");
        var summer = new DateTimeOffset(2026, 7, 1, 10, 5, 0, TimeSpan.Zero);
        var winter = new DateTimeOffset(2026, 12, 4, 16, 5, 0, TimeSpan.Zero);

        Assert.That(ReaderTime.Format(summer, zone, CultureInfo.GetCultureInfo("sv")), Is.EqualTo("2026-07-01 12:05"));
        Assert.That(ReaderTime.Format(winter, zone, CultureInfo.GetCultureInfo("sv")), Is.EqualTo("2026-12-04 17:05"));
        Assert.That(ReaderTime.Format(winter, zone, CultureInfo.GetCultureInfo("en")), Is.EqualTo("4 Dec 2026 17:05"));
    }

    [TestCase(0, "sv", "0 byte")]
    [TestCase(1, "en", "1 byte")]
    [TestCase(1023, "en", "1023 bytes")]
    [TestCase(1536, "sv", "1,5 kB")]
    [TestCase(1536, "en", "1.5 kB")]
    [TestCase(500L * 1024 * 1024, "en", "500 MB")]
    [TestCase(3L * 1024 * 1024 * 1024, "sv", "3 GB")]
    public void Size_HumanUnits(long bytes, string language, string expected) =>
        Assert.That(ReaderTime.Size(bytes, CultureInfo.GetCultureInfo(language)), Is.EqualTo(expected));

    [TestCase("America/New_York", "America/New_York")]
    [TestCase("Asia/Kolkata", "Asia/Kolkata")]
    [TestCase("../../etc/passwd", "Europe/Stockholm")]
    [TestCase("Europe/../../../etc/localtime", "Europe/Stockholm")]
    [TestCase("Not/AZone", "Europe/Stockholm")]
    [TestCase("Europe/Stockholm\r\nX: y", "Europe/Stockholm")]
    [TestCase("", "Europe/Stockholm")]
    [TestCase(null, "Europe/Stockholm")]
    public void ZoneFrom_BrowserReport_UnknownOrHostileFallsBack(string? reported, string expected)
    {
        var stockholm = TimeZoneInfo.FindSystemTimeZoneById("Europe/Stockholm");

        Assert.That(ReaderTime.ZoneFrom(reported, stockholm).Id, Is.EqualTo(expected));
    }

    [TestCase("Mars/Olympus_Mons")]
    [TestCase("../../etc/passwd")]
    [TestCase("Europe/Stockholm\n")]
    [TestCase("")]
    public void Start_UnknownDisplayTimeZone_StopsNamingTheSetting(string zone)
    {
        using var portal = new PortalFactory(new Dictionary<string, string?> { ["Display:TimeZone"] = zone });

        var error = Assert.Catch(() => _ = portal.Services);

        Assert.That(error!.ToString(), Does.Contain("Display").And.Contain("TimeZone"), "the message names the setting");
    }

    [Test]
    public async Task SecurityPage_TimesInStockholmByDefault_WithLabelsForNarrowScreens()
    {
        _portal.Time.Advance(new DateTimeOffset(2026, 12, 4, 12, 5, 0, TimeSpan.Zero) - _portal.Time.GetUtcNow());
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = BrowserIn("sv-SE");
        await RecipientJourney.CreateAccountAsync(_portal, client, token);

        var page = await client.PageAsync("/settings/security");
        var inbox = await client.PageAsync("/mailbox");

        Assert.That(page.Html, Does.Contain(">2026-12-04 13:05</time>"));
        Assert.That(page.Html, Does.Not.Contain("UTC").And.Not.Contain("+00:00"));
        Assert.That(page.Html, Does.Contain("data-label=\"Senast aktiv\""), "stacked rows keep their labels");
        Assert.That(inbox.Html, Does.Contain(">2026-12-04 13:05</time>").And.Contain("data-label=\"Datum\""));
    }

    [Test]
    public async Task Settings_ShowsEachSettingsState_AndButtonsNameTheirAction()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = BrowserIn("en");
        await RecipientJourney.CreateAccountAsync(_portal, client, token);

        var text = BrowserSteps.Text((await client.PageAsync("/settings")).Html);

        Assert.That(text, Does.Contain("Two-factor sign-in is off.").And.Contain("Turn on two-factor sign-in"));
        Assert.That(text, Does.Contain("+46 70 ").And.Contain("Change mobile number or backup phone"));
        Assert.That(text, Does.Contain("Show sign-ins and events").And.Contain("Delete my account"));
    }

    [Test]
    public async Task ReadPage_AttachmentSizesInHumanUnits()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar", attachment: new byte[1536]);
        using var client = BrowserIn("en");
        var url = await RecipientJourney.CreateAccountAsync(_portal, client, token);

        var text = BrowserSteps.Text((await client.PageAsync(url)).Html);

        Assert.That(text, Does.Contain("provsvar å.pdf").And.Contain("(application/pdf, 1.5 kB)"), "the decoded size, not the base64 length");
    }

    [Test]
    public async Task Notifications_SayWhatTheReaderWillDo()
    {
        var composer = _portal.Services.GetRequiredService<NotificationComposer>();

        using var fresh = composer.Compose(NotificationKind.NewMessage, "a@patient.example", "sv", readerHasAccount: false, "sven@org.example", null, "t");
        using var known = composer.Compose(NotificationKind.NewMessage, "a@patient.example", "sv", readerHasAccount: true, "sven@org.example", null, "t");
        using var knownEn = composer.Compose(NotificationKind.NewMessage, "a@patient.example", "en", readerHasAccount: true, "sven@org.example", null, "t");
        using var receiptNew = composer.Compose(NotificationKind.SentReceipt, "sven@org.example", "sv", readerHasAccount: false, "sven@org.example", null, "t");
        using var receiptActive = composer.Compose(NotificationKind.SentReceipt, "sven@org.example", "sv", readerHasAccount: true, "sven@org.example", null, "t");

        Assert.That(fresh.TextBody, Does.Contain("sms-kod"));
        Assert.That(known.TextBody, Does.Not.Contain("sms-kod").And.Not.Contain("Första gången").And.Contain("Logga in"));
        Assert.That(knownEn.TextBody, Does.Contain("Sign in").And.Not.Contain("SMS"));
        Assert.That(receiptActive.TextBody, Does.Not.Contain("aktivera").And.Contain("skickade meddelanden"));
        Assert.That(receiptNew.TextBody, Does.Contain("skapar ett konto"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task FirstStart_TwoInstancesOnOneDataFolder_LogNoErrorAndCreateTheOutbox()
    {
        var settings = new Dictionary<string, string?> { ["Vault:DataDirectory"] = _portal.Data.Path };
        using var second = new PortalFactory(settings);

        // The gateway and the portal start together under ./run.sh: both migrate and seed the same SQLite files.
        await Task.WhenAll(Task.Run(() => _portal.Services), Task.Run(() => second.Services));

        var complaints = _portal.Logs.Lines.Concat(second.Logs.Lines)
            .Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal))
            .ToList();
        Assert.That(complaints, Is.Empty);
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await db.Organisations.CountAsync(o => o.Name == "Region Test"), Is.EqualTo(1));
        Assert.That(Directory.Exists(Path.Combine(_portal.Data.Path, "sms-outbox")), Is.True, "the README points at it before the first code");
    }

    [Test]
    public async Task OutlookPage_ShowsTheManifestUrl_AndFaviconIsServed()
    {
        using var client = BrowserIn("en");

        var (status, html, _) = await client.PageAsync("/outlook");
        using var favicon = await client.GetAsync(new Uri("/favicon.ico", UriKind.Relative));
        var home = await client.PageAsync("/signin");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("https://portal.test/addin/manifest.xml"));
        Assert.That(BrowserSteps.Text(html), Does.Contain("Integrated apps"));
        Assert.That(favicon.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(favicon.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/x-icon"));
        Assert.That(home.Html, Does.Contain("href=\"/outlook\"").And.Contain("rel=\"icon\""));
    }
}
