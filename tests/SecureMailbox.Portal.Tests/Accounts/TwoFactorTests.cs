using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using TotpCore = SecureMailbox.Portal.Accounts.TwoFactor.Totp;

namespace SecureMailbox.Portal.Tests.Accounts;

/// <summary>Enabling 2FA, the second sign-in step and backup codes, through the real host.</summary>
[TestFixture]
public sealed partial class TwoFactorTests
{
    private const string Page = "/settings/two-factor";

    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    /// <summary>A signed-in client of a fresh account.</summary>
    private async Task<HttpClient> SignedInAsync()
    {
        var (token, _) = await _portal.StoreMessageAsync("Provsvar");
        var client = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, client, token);
        return client;
    }

    private async Task<string> StartAndPassSmsAsync(HttpClient client)
    {
        var start = await client.PageAsync(Page);
        Assert.That(start.Html, Does.Contain("handler=Start"));
        using var started = await client.PostFormAsync(Page + "?handler=Start", start.Html, ("password", RecipientJourney.Password), ("installed", "true"));
        Assert.That(started.Location(), Is.EqualTo(Page), await started.Content.ReadAsStringAsync());
        var sms = await client.PageAsync(Page);
        Assert.That(sms.Html, Does.Contain("handler=Sms"));
        using var checkedSms = await client.PostFormAsync(Page + "?handler=Sms", sms.Html, ("code", _portal.LatestSmsCode()));
        Assert.That(checkedSms.Location(), Is.EqualTo(Page));
        var qr = await client.PageAsync(Page);
        Assert.That(qr.Html, Does.Contain("handler=Confirm"));
        return qr.Html;
    }

    private static byte[] SecretFrom(string html)
    {
        var match = SecretField().Match(html);
        Assert.That(match.Success, Is.True, "the page shows the secret");
        var groups = match.Groups[1].Value.Split(' ');
        Assert.That(groups, Has.All.Length.EqualTo(4), "groups of four");
        return Base32Encoding.ToBytes(string.Concat(groups));
    }

    private static List<string> CodesFrom(string html) => [.. BackupCodeItem().Matches(html).Select(m => m.Groups[1].Value)];

    private string CodeNow(byte[] secret) => TotpCore.ComputeAt(secret, _portal.Time.GetUtcNow());

    /// <summary>The whole enabling flow; returns the secret and the backup codes.</summary>
    private async Task<(byte[] Secret, List<string> Codes)> EnableAsync(HttpClient client)
    {
        var qrHtml = await StartAndPassSmsAsync(client);
        var secret = SecretFrom(qrHtml);
        using var confirmed = await client.PostFormAsync(Page + "?handler=Confirm", qrHtml, ("code", CodeNow(secret)));
        var html = await confirmed.Content.ReadAsStringAsync();
        Assert.That(confirmed.StatusCode, Is.EqualTo(HttpStatusCode.OK), html);
        var codes = CodesFrom(html);
        Assert.That(codes, Has.Count.EqualTo(10).And.Unique);
        return (secret, codes);
    }

    private static async Task<HttpResponseMessage> PasswordStepAsync(HttpClient client) =>
        await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password);

    private static async Task<HttpResponseMessage> SecondStepAsync(HttpClient client, string field, string value)
    {
        var page = await client.PageAsync("/signin/second-factor");
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.OK));
        return await client.PostFormAsync("/signin/second-factor", page.Html, (field, value));
    }

    [Test]
    public async Task Enable_WrongSmsCodeAndWrongTotpRefused_ThenOnWithBackupCodes()
    {
        using var client = await SignedInAsync();
        var start = await client.PageAsync(Page);
        using var noApp = await client.PostFormAsync(Page + "?handler=Start", start.Html, ("password", RecipientJourney.Password));
        using var wrongPassword = await client.PostFormAsync(Page + "?handler=Start", start.Html, ("password", "fel lösenord"), ("installed", "true"));
        Assert.That(noApp.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(wrongPassword.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(_portal.SmsCount(), Is.EqualTo(1), "only the account creation's SMS so far");

        using var started = await client.PostFormAsync(Page + "?handler=Start", start.Html, ("password", RecipientJourney.Password), ("installed", "true"));
        var smsCode = _portal.LatestSmsCode();
        var sms = await client.PageAsync(Page);
        var wrongSms = smsCode == "000000" ? "111111" : "000000";
        using var wrong = await client.PostFormAsync(Page + "?handler=Sms", sms.Html, ("code", wrongSms));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await client.GetAsync(new Uri(Page + "?handler=Qr", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "no QR before the SMS code");

        using var right = await client.PostFormAsync(Page + "?handler=Sms", sms.Html, ("code", smsCode));
        Assert.That(right.Location(), Is.EqualTo(Page));
        var qrPage = await client.PageAsync(Page);
        var secret = SecretFrom(qrPage.Html);
        Assert.That(secret, Has.Length.EqualTo(20));
        using var png = await client.GetAsync(new Uri(Page + "?handler=Qr", UriKind.Relative));
        Assert.That(png.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/png"));
        Assert.That((await png.Content.ReadAsByteArrayAsync())[..4], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47 }));

        using var wrongTotp = await client.PostFormAsync(Page + "?handler=Confirm", qrPage.Html, ("code", TotpCore.ComputeAt(secret, _portal.Time.GetUtcNow().AddMinutes(-2))));
        Assert.That(wrongTotp.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        await using (var portalDb = await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            Assert.That(await portalDb.TwoFactorSecrets.SingleAsync(), Has.Property("EnabledAt").Null);
        }

        using var confirmed = await client.PostFormAsync(Page + "?handler=Confirm", qrPage.Html, ("code", CodeNow(secret)));
        var html = await confirmed.Content.ReadAsStringAsync();
        Assert.That(confirmed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(html), Does.Contain("Skriv ut eller spara reservkoderna nu"));
        var codes = CodesFrom(html);
        Assert.That(codes, Has.Count.EqualTo(10).And.Unique);
        Assert.That(BrowserSteps.Text((await client.PageAsync(Page)).Html), Does.Contain("Tvåfaktorsinloggning är på.").And.Not.Contain(codes[0]), "the codes are shown once");

        // At rest: the secret is encrypted, the codes are hashed, and each code wraps the account key.
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var row = await db.TwoFactorSecrets.SingleAsync();
        Assert.That(row.EnabledAt, Is.Not.Null);
        Assert.That(Convert.ToHexString(row.EncryptedSecret), Does.Not.Contain(Convert.ToHexString(secret)));
        Assert.That(await db.BackupCodes.CountAsync(), Is.EqualTo(10));
        await using var vault = await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await vault.AccountKeys.CountAsync(k => k.Kind == AccountKeyKind.BackupCode), Is.EqualTo(10));
        var portalFile = await File.ReadAllBytesAsync(Path.Combine(_portal.Data.Path, "portal.db"));
        Assert.That(System.Text.Encoding.ASCII.GetString(portalFile), Does.Not.Contain(codes[0].Replace("-", "", StringComparison.Ordinal)).And.Not.Contain(TotpCore.Base32(secret)));
    }

    [Test]
    public async Task Enable_ExpiredSmsCodeRefused_NewCodeWorks()
    {
        using var client = await SignedInAsync();
        var start = await client.PageAsync(Page);
        using var started = await client.PostFormAsync(Page + "?handler=Start", start.Html, ("password", RecipientJourney.Password), ("installed", "true"));
        var oldCode = _portal.LatestSmsCode();
        _portal.Time.Advance(TimeSpan.FromMinutes(11));
        var sms = await client.PageAsync(Page);
        using var expired = await client.PostFormAsync(Page + "?handler=Sms", sms.Html, ("code", oldCode));
        Assert.That(expired.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));

        using var resent = await client.PostFormAsync(Page + "?handler=Resend", sms.Html);
        Assert.That(resent.Location(), Is.EqualTo(Page));
        using var fresh = await client.PostFormAsync(Page + "?handler=Sms", sms.Html, ("code", _portal.LatestSmsCode()));
        Assert.That(fresh.Location(), Is.EqualTo(Page));
        Assert.That((await client.PageAsync(Page)).Html, Does.Contain("handler=Confirm"));
    }

    [Test]
    public async Task BackupCodes_DownloadAsText()
    {
        using var client = await SignedInAsync();
        var qrHtml = await StartAndPassSmsAsync(client);
        using var confirmed = await client.PostFormAsync(Page + "?handler=Confirm", qrHtml, ("code", CodeNow(SecretFrom(qrHtml))));
        var html = await confirmed.Content.ReadAsStringAsync();
        var codes = CodesFrom(html);

        using var download = await client.PostFormAsync(Page + "?handler=Download", html, [.. codes.Select(c => ("codes", c))]);
        var text = await download.Content.ReadAsStringAsync();

        Assert.That(download.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        Assert.That(download.Content.Headers.ContentDisposition?.DispositionType, Is.EqualTo("attachment"));
        Assert.That(codes, Has.All.Matches<string>(c => text.Contains(c, StringComparison.Ordinal)));
        Assert.That(html, Does.Contain("/css/site.css"), "the print stylesheet is in site.css");
    }

    [Test]
    public async Task SignIn_WithTotp_MissingWrongReplayedRefused_ThenSuccess()
    {
        using var setup = await SignedInAsync();
        var (secret, _) = await EnableAsync(setup);
        var usedAtConfirm = CodeNow(secret);
        using var client = _portal.Browser();

        using var password = await PasswordStepAsync(client);
        Assert.That(password.Location(), Is.EqualTo("/signin/second-factor"));
        Assert.That(password.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], Has.None.StartsWith("__Host-smbx-session="));
        // The pending sign-in opens nothing.
        Assert.That((await client.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"));
        Assert.That((await client.PageAsync("/settings")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"));

        using var missing = await SecondStepAsync(client, "code", "");
        using var wrong = await SecondStepAsync(client, "code", usedAtConfirm == "123456" ? "654321" : "123456");
        using var replayed = await SecondStepAsync(client, "code", usedAtConfirm);
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(replayed.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the step used to confirm cannot be used again");

        _portal.Time.Advance(TimeSpan.FromSeconds(30));
        var fresh = CodeNow(secret);
        using var success = await SecondStepAsync(client, "code", fresh);
        Assert.That(success.Location(), Is.EqualTo("/mailbox"));
        Assert.That((await client.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await client.PageAsync("/signin/second-factor")).Response.Headers.Location?.OriginalString, Is.EqualTo("/signin"), "the pending sign-in is gone");

        using var other = _portal.Browser();
        using var _ = await PasswordStepAsync(other);
        using var again = await SecondStepAsync(other, "code", fresh);
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a code works once, also from another browser");
    }

    [Test]
    public async Task SignIn_SecondFactorFailures_CountTowardsThrottling()
    {
        using var setup = await SignedInAsync();
        var (secret, _) = await EnableAsync(setup);
        using var client = _portal.Browser();
        for (var round = 0; round < 4; round++)
        {
            using var password = await PasswordStepAsync(client);
            Assert.That(password.Location(), Is.EqualTo("/signin/second-factor"), $"round {round}");
            for (var i = 0; i < 5; i++)
            {
                using var _ = await SecondStepAsync(client, "code", "000000");
            }
            Assert.That((await client.PageAsync("/signin/second-factor")).Response.Headers.Location?.OriginalString, Is.EqualTo("/signin"), "5 attempts end it");
        }

        using var throttled = await PasswordStepAsync(client);
        Assert.That(throttled.StatusCode, Is.EqualTo((HttpStatusCode)429));
        _portal.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        using var later = await PasswordStepAsync(client);
        using var ok = await SecondStepAsync(client, "code", CodeNow(secret));
        Assert.That(ok.Location(), Is.EqualTo("/mailbox"));
    }

    [Test]
    public async Task SignIn_WithBackupCode_WorksOnce()
    {
        using var setup = await SignedInAsync();
        var (_, codes) = await EnableAsync(setup);

        using var first = _portal.Browser();
        using var p1 = await PasswordStepAsync(first);
        using var ok = await SecondStepAsync(first, "backupCode", codes[3].ToLowerInvariant());
        Assert.That(ok.Location(), Is.EqualTo("/mailbox"));
        var mailbox = await first.PageAsync("/mailbox");
        Assert.That(mailbox.Status, Is.EqualTo(HttpStatusCode.OK));
        var item = MailboxItemLink().Match(mailbox.Html);
        Assert.That(item.Success, Is.True);
        Assert.That(BrowserSteps.Text((await first.PageAsync(item.Value)).Html), Does.Contain(PortalFactory.BodySentence), "the key from the backup code opens mail");

        using var second = _portal.Browser();
        using var p2 = await PasswordStepAsync(second);
        using var used = await SecondStepAsync(second, "backupCode", codes[3]);
        Assert.That(used.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        await using var vault = await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await vault.AccountKeys.CountAsync(k => k.Kind == AccountKeyKind.BackupCode), Is.EqualTo(9));
    }

    [Test]
    public async Task RegenerateBackupCodes_OldSetStopsWorking()
    {
        using var setup = await SignedInAsync();
        var (secret, oldCodes) = await EnableAsync(setup);
        var page = await setup.PageAsync(Page);
        Assert.That(page.Html, Does.Not.Contain("handler=Regenerate"), "offered only after re-authentication");
        using var notConfirmed = await setup.PostFormAsync(Page + "?handler=Regenerate", page.Html);
        Assert.That(notConfirmed.Location(), Is.EqualTo("/settings/confirm?returnUrl=%2Fsettings%2Ftwo-factor"));
        _portal.Time.Advance(TimeSpan.FromSeconds(30));
        var confirm = await setup.PageAsync(notConfirmed.Location());
        using var wrongPassword = await setup.PostFormAsync("/settings/confirm", confirm.Html, ("password", "fel"), ("code", CodeNow(secret)), ("returnUrl", Page));
        Assert.That(wrongPassword.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        using var noCode = await setup.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("code", ""), ("returnUrl", Page));
        Assert.That(noCode.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "re-authentication needs the second factor too");
        using var stillNot = await setup.PostFormAsync(Page + "?handler=Regenerate", page.Html);
        Assert.That(stillNot.Location(), Does.StartWith("/settings/confirm"));
        Assert.That(_portal.Logs.Lines, Has.None.Contains(TotpCore.Base32(secret)), "the secret is never logged");
        using var confirmed = await setup.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("code", CodeNow(secret)), ("returnUrl", Page));
        Assert.That(confirmed.Location(), Is.EqualTo(Page));
        var confirmedPage = await setup.PageAsync(Page);
        Assert.That(confirmedPage.Html, Does.Contain("handler=Regenerate"));
        using var regenerated = await setup.PostFormAsync(Page + "?handler=Regenerate", confirmedPage.Html);
        var newCodes = CodesFrom(await regenerated.Content.ReadAsStringAsync());
        Assert.That(newCodes, Has.Count.EqualTo(10));
        Assert.That(newCodes, Has.None.AnyOf(oldCodes.ToArray()));

        using var client = _portal.Browser();
        using var p1 = await PasswordStepAsync(client);
        using var old = await SecondStepAsync(client, "backupCode", oldCodes[0]);
        Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        using var fresh = await SecondStepAsync(client, "backupCode", newCodes[0]);
        Assert.That(fresh.Location(), Is.EqualTo("/mailbox"));
    }

    [Test]
    public async Task Regenerate_WrongAppCodesAtReauthentication_CountTowardsThrottling()
    {
        using var setup = await SignedInAsync();
        var (secret, _) = await EnableAsync(setup);
        _portal.Time.Advance(TimeSpan.FromSeconds(30));
        var confirm = await setup.PageAsync("/settings/confirm?returnUrl=%2Fsettings%2Ftwo-factor");
        for (var i = 0; i < 20; i++)
        {
            using var wrong = await setup.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("code", "000000"), ("returnUrl", Page));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        using var right = await setup.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("code", CodeNow(secret)), ("returnUrl", Page));
        using var regenerate = await setup.PostFormAsync(Page + "?handler=Regenerate", confirm.Html);
        using var signIn = await PasswordStepAsync(_portal.Browser());

        Assert.That(right.StatusCode, Is.EqualTo((HttpStatusCode)429), "throttled");
        Assert.That(regenerate.Location(), Does.StartWith("/settings/confirm"), "no new codes");
        Assert.That(signIn.StatusCode, Is.EqualTo((HttpStatusCode)429));
    }

    [Test]
    public async Task NewForms_RefusePostsWithoutTheAntiforgeryToken()
    {
        using var setup = await SignedInAsync();
        var (secret, codes) = await EnableAsync(setup);
        foreach (var handler in new[] { "Start", "Sms", "Resend", "Confirm", "Regenerate", "Download" })
        {
            using var response = await setup.PostFormAsync(Page + "?handler=" + handler, "", ("password", RecipientJourney.Password), ("installed", "true"), ("codes", codes[0]));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), handler);
        }
        using var client = _portal.Browser();
        using var p1 = await PasswordStepAsync(client);
        _portal.Time.Advance(TimeSpan.FromSeconds(30));
        using var noToken = await client.PostFormAsync("/signin/second-factor", "", ("code", CodeNow(secret)));
        Assert.That(noToken.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(noToken.Headers.Location, Is.Null);
    }

    [Test]
    public async Task Pages_InEnglish()
    {
        using var client = await SignedInAsync();
        var settings = await client.PageAsync("/settings");
        using var english = await client.PostFormAsync("/settings", settings.Html, ("language", "en"));
        var page = await client.PageAsync(Page);
        Assert.That(BrowserSteps.Text(page.Html), Does.Contain("I have installed an authenticator app").And.Contain("Identity check"));
    }

    [Test]
    public async Task PortalDatabaseFromBeforeMigrations_IsUpgradedAndKeepsItsRows()
    {
        using var client = await SignedInAsync();
        await EnableAsync(client);
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            // What a portal.db made by EnsureCreated before the two-factor tables looked like: no history, no
            // TwoFactorSetups, sessions without the columns added since.
            await db.Database.ExecuteSqlRawAsync("DROP TABLE \"__EFMigrationsHistory\"");
            await db.Database.ExecuteSqlRawAsync("DROP TABLE \"TwoFactorSetups\"");
            await db.Database.ExecuteSqlRawAsync("DROP TABLE \"SecurityEvents\"");
            await db.Database.ExecuteSqlRawAsync("DROP TABLE \"RecoveryRequests\"");
            await db.Database.ExecuteSqlRawAsync("DROP TABLE \"Registrations\"");
            await db.Database.ExecuteSqlRawAsync("DROP TABLE \"RateCounters\"");
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE \"Sessions\" DROP COLUMN \"Device\"");
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE \"Sessions\" DROP COLUMN \"Network\"");
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE \"Sessions\" DROP COLUMN \"ReauthenticatedAt\"");
        }

        await new PortalDatabaseCreator(factory, Microsoft.Extensions.Logging.Abstractions.NullLogger<PortalDatabaseCreator>.Instance).StartAsync(CancellationToken.None);

        await using var after = await factory.CreateDbContextAsync();
        Assert.That(await after.Database.GetPendingMigrationsAsync(), Is.Empty);
        Assert.That(await after.TwoFactorSecrets.CountAsync(), Is.EqualTo(1), "the enabled secret is kept");
        Assert.That(await after.BackupCodes.CountAsync(), Is.EqualTo(10), "the backup codes are kept");
        Assert.That(await after.Sessions.CountAsync(), Is.EqualTo(1), "the session is kept");
        Assert.That(await after.TwoFactorSetups.CountAsync() + await after.SecurityEvents.CountAsync() + await after.RecoveryRequests.CountAsync(), Is.Zero);
        using var signIn = await PasswordStepAsync(_portal.Browser());
        Assert.That(signIn.Location(), Is.EqualTo("/signin/second-factor"), "2FA still on after the upgrade");
    }

    [Test]
    public async Task SecretThatNoLongerOpens_IsAWrongCode_NotAServerError()
    {
        using var setup = await SignedInAsync();
        var (secret, _) = await EnableAsync(setup);
        _portal.Time.Advance(TimeSpan.FromSeconds(30));
        // As after a lost portal-secret.key: the stored blob does not open with the server key any more.
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            var row = await db.TwoFactorSecrets.SingleAsync();
            row.EncryptedSecret[^1] ^= 0x01;
            db.Entry(row).Property(r => r.EncryptedSecret).IsModified = true;
            await db.SaveChangesAsync();
        }

        using var client = _portal.Browser();
        using var password = await PasswordStepAsync(client);
        using var second = await SecondStepAsync(client, "code", CodeNow(secret));

        Assert.That(password.Location(), Is.EqualTo("/signin/second-factor"));
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "refused like a wrong code");
        Assert.That(_portal.Logs.Lines, Has.Some.Contain("does not open with the server key"));
    }

    [Test]
    public async Task PortalDatabaseLost_TwoFactorStaysRequired()
    {
        using var setup = await SignedInAsync();
        await EnableAsync(setup);
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            await db.TwoFactorSecrets.ExecuteDeleteAsync();
        }

        using var client = _portal.Browser();
        using var signIn = await PasswordStepAsync(client);

        Assert.That(signIn.Location(), Is.EqualTo("/signin/second-factor"), "fails closed while backup-code keys exist in the vault");
    }

    [GeneratedRegex("<code class=\"secret\">([A-Z2-7 ]+)</code>")]
    private static partial Regex SecretField();

    [GeneratedRegex("<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>")]
    private static partial Regex BackupCodeItem();

    [GeneratedRegex("/mailbox/m/[0-9a-f-]{36}")]
    private static partial Regex MailboxItemLink();
}
