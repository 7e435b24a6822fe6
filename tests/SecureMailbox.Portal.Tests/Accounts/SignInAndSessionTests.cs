using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Crypto.KeyWrapping;

namespace SecureMailbox.Portal.Tests.Accounts;

/// <summary>Sign-in, sessions and their keys, cookies and headers, settings.</summary>
[TestFixture]
public sealed class SignInAndSessionTests
{
    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private async Task CreateAccountAsync()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, client, token);
    }

    [Test]
    public async Task SignIn_Correct_StartsASessionWithANewIdAndOpensTheMailbox()
    {
        await CreateAccountAsync();
        using var client = _portal.Browser();

        var form = await client.PageAsync("/signin");
        using var first = await client.PostFormAsync("/signin", form.Html, ("email", PortalFactory.PatientAddress), ("password", RecipientJourney.Password));
        var firstCookie = first.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-smbx-session=", StringComparison.Ordinal));
        using var second = await client.PostFormAsync("/signin", form.Html, ("email", PortalFactory.PatientAddress), ("password", RecipientJourney.Password));
        var secondCookie = second.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-smbx-session=", StringComparison.Ordinal));

        Assert.That(first.Location(), Is.EqualTo("/mailbox"));
        Assert.That(firstCookie, Does.Contain("secure").IgnoreCase.And.Contain("httponly").IgnoreCase.And.Contain("samesite=lax").IgnoreCase.And.Contain("path=/"));
        Assert.That(secondCookie.Split(';')[0], Is.Not.EqualTo(firstCookie.Split(';')[0]));
        Assert.That((await client.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.OK));
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        Assert.That(await db.Sessions.CountAsync(), Is.EqualTo(2), "account creation's session and this one; the first sign-in's was replaced");
    }

    [Test]
    public async Task SignIn_UnknownEmailOrWrongPassword_SameAnswer()
    {
        await CreateAccountAsync();
        using var client = _portal.Browser();

        using var unknown = await RecipientJourney.SignInAsync(client, "nobody@example.org", "whatever password");
        using var wrong = await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, "whatever password");
        using var pending = await RecipientJourney.SignInAsync(client, PortalFactory.SenderAddress, "whatever password");

        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(pending.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        static string Error(string html) => html[html.IndexOf("<p class=\"error\"", StringComparison.Ordinal)..][..80];
        Assert.That(Error(await unknown.Content.ReadAsStringAsync()), Is.EqualTo(Error(await wrong.Content.ReadAsStringAsync())));
    }

    [Test]
    public async Task SignIn_ManyFailures_AreThrottledPerAccount()
    {
        await CreateAccountAsync();
        using var client = _portal.Browser();
        for (var i = 0; i < 20; i++)
        {
            using var _ = await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, "fel lösenord " + i);
        }

        using var throttled = await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password);
        _portal.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        using var later = await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password);

        Assert.That(throttled.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(later.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
    }

    [TestCase("https://evil.example/")]
    [TestCase("//evil.example/")]
    [TestCase("/\\evil.example/")]
    [TestCase("javascript:alert(1)")]
    public async Task SignIn_ForeignReturnUrl_GoesToTheMailbox(string returnUrl)
    {
        await CreateAccountAsync();
        using var client = _portal.Browser();

        using var response = await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password, returnUrl);

        Assert.That(response.Location(), Is.EqualTo("/mailbox"));
    }

    [Test]
    public async Task SignIn_HostileFields_AreRefusedCalmly()
    {
        using var client = _portal.Browser();
        var page = await client.PageAsync("/signin");

        using var control = await client.PostFormAsync("/signin", page.Html, ("email", "a\u0000b@example.org\r\nBcc: x@y"), ("password", "x"));
        using var longEmail = await client.PostFormAsync("/signin", page.Html, ("email", new string('a', 5000) + "@example.org"), ("password", "x"));
        var huge = new string('p', 1024 * 1024);
        using var megabyte = await client.PostFormAsync("/signin", page.Html, ("email", PortalFactory.PatientAddress), ("password", huge));

        Assert.That((int)control.StatusCode, Is.EqualTo(400).Or.EqualTo(401), "refused, not a server error");
        Assert.That(longEmail.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((int)megabyte.StatusCode, Is.EqualTo(400).Or.EqualTo(413));
    }

    [Test]
    public async Task Session_StoredKeyIsUselessWithoutTheCookie()
    {
        await CreateAccountAsync();
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var session = await db.Sessions.SingleAsync();

        Assert.That(PrivateKeyWrap.Describe(session.WrappedKey).Purpose, Is.EqualTo(KeyWrapPurpose.SessionKey));
        Assert.That(() => PrivateKeyWrap.UnwrapWithSecret(session.WrappedKey, new byte[32], KeyWrapPurpose.SessionKey, "session:" + session.Id), Throws.TypeOf<KeyUnwrapException>());
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_portal.Data.Path, "portal.db"));
        Assert.That(System.Text.Encoding.ASCII.GetString(bytes), Does.Not.Contain("AGE-SECRET-KEY"));
    }

    [Test]
    public async Task AccountKey_AfterSignUpAndSignIn_IsNowhereInClearOnDisk()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        byte[] privateKey;
        using (var unlocked = await _portal.Services.GetRequiredService<SecureMailbox.Vault.Messages.VaultReader>().UnlockLinkAsync(token, CancellationToken.None))
        {
            privateKey = unlocked!.Key!.ExportPrivateKey(); // the link key becomes the account key
        }
        using (var client = _portal.Browser())
        {
            await RecipientJourney.CreateAccountAsync(_portal, client, token);
        }
        using (var desk = _portal.Browser())
        {
            using var _ = await RecipientJourney.SignInAsync(desk, PortalFactory.PatientAddress, RecipientJourney.Password);
            await desk.PageAsync("/mailbox");
        }

        foreach (var file in Directory.GetFiles(_portal.Data.Path, "*.db*"))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes);
            Assert.That(bytes.AsSpan().IndexOf(privateKey), Is.EqualTo(-1), file);
            Assert.That(System.Text.Encoding.ASCII.GetString(bytes), Does.Not.Contain("AGE-SECRET-KEY"), file);
        }
        Assert.That(_portal.Logs.Lines.Any(l => l.Contains("AGE-SECRET-KEY", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task Session_IdleThirtyMinutes_Ends()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, client, token);
        _portal.Time.Advance(TimeSpan.FromMinutes(29));
        var stillIn = await client.PageAsync("/mailbox");
        _portal.Time.Advance(TimeSpan.FromMinutes(31));

        var (status, _, response) = await client.PageAsync("/mailbox");

        Assert.That(stillIn.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Location(), Does.StartWith("/signin?returnUrl="));
    }

    [Test]
    public async Task Session_AfterTwelveHours_EndsEvenWhenUsed()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, client, token);
        for (var i = 0; i < 25; i++)
        {
            _portal.Time.Advance(TimeSpan.FromMinutes(29));
            await client.PageAsync("/mailbox");
        }

        Assert.That((await client.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.Redirect));
    }

    [Test]
    public async Task SignOut_EndsTheSession_AndGetDoesNothing()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, client, token);
        var inbox = await client.PageAsync("/mailbox");

        var get = await client.PageAsync("/signout");
        var stillIn = await client.PageAsync("/mailbox");
        using var post = await client.PostFormAsync("/signout", inbox.Html);

        Assert.That(get.Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(stillIn.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(post.Location(), Is.EqualTo("/signin"));
        Assert.That((await client.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.Redirect));
    }

    [Test]
    public async Task SignOutEverywhere_EndsOtherSessions()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var phone = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, phone, token);
        using var desk = _portal.Browser();
        await RecipientJourney.SignInAsync(desk, PortalFactory.PatientAddress, RecipientJourney.Password);
        var settings = await desk.PageAsync("/settings");

        using var post = await desk.PostFormAsync("/signout?handler=Everywhere", settings.Html);

        Assert.That(post.Location(), Is.EqualTo("/signin"));
        Assert.That((await phone.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That((await desk.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.Redirect));
    }

    [Test]
    public async Task Pages_CarrySecurityHeaders()
    {
        using var client = _portal.Browser();

        var (_, html, response) = await client.PageAsync("/signin");

        Assert.That(html, Does.Contain("<html lang=\"sv\">"));
        Assert.That(string.Join(";", response.Headers.GetValues("Content-Security-Policy")), Does.Contain("default-src 'self'").And.Contain("frame-ancestors 'none'"));
        Assert.That(response.Headers.GetValues("Referrer-Policy"), Is.EqualTo(new[] { "no-referrer" }));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        Assert.That(response.Headers.CacheControl?.NoStore, Is.True);
        Assert.That(response.Headers.GetValues("X-Frame-Options"), Is.EqualTo(new[] { "DENY" }));
        Assert.That(response.Headers.Contains("Strict-Transport-Security"), Is.True);
        var antiforgery = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-smbx-af=", StringComparison.Ordinal));
        Assert.That(antiforgery, Does.Contain("secure").IgnoreCase.And.Contain("httponly").IgnoreCase.And.Contain("samesite=strict").IgnoreCase);
        var css = await client.GetAsync(new Uri("/css/site.css", UriKind.Relative));
        Assert.That(css.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AddinPages_KeepTheirOwnPolicy_AndAreNotMailPages()
    {
        using var client = _portal.Browser();

        var (status, _, response) = await client.PageAsync("/addin/taskpane.html");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(string.Join(";", response.Headers.GetValues("Content-Security-Policy")), Does.Contain("https://appsforoffice.microsoft.com").And.Not.Contain("frame-ancestors"));
        Assert.That(response.Headers.Contains("X-Frame-Options"), Is.False, "Outlook on the web frames the task pane");
        Assert.That(response.Headers.GetValues("Referrer-Policy"), Is.EqualTo(new[] { "no-referrer" }));
    }

    [Test]
    public async Task Settings_English_ChangesTheTextsAndSubjectChoiceIsSaved()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        using var client = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, client, token);
        var settings = await client.PageAsync("/settings");
        Assert.That(settings.Html, Does.Contain("name=\"showSubject\" value=\"true\" />").Or.Not.Contain("checked=\"checked\""));

        using var saved = await client.PostFormAsync("/settings", settings.Html, ("language", "en"), ("showSubject", "true"));
        var inbox = await client.PageAsync("/mailbox");
        using var bad = await client.PostFormAsync("/settings", settings.Html, ("language", "xx"));

        Assert.That(saved.Location(), Is.EqualTo("/settings?saved=true"));
        Assert.That(inbox.Html, Does.Contain("<html lang=\"en\">").And.Contain("Inbox"));
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var vault = _portal.Services.GetRequiredService<IDbContextFactory<SecureMailbox.Vault.Data.VaultDbContext>>();
        await using var db = await vault.CreateDbContextAsync();
        var account = await db.Accounts.SingleAsync(a => a.Email == PortalFactory.PatientAddress);
        Assert.That(account.Language, Is.EqualTo("en"));
        Assert.That(account.ShowSubjectInNotifications, Is.True);
    }
}
