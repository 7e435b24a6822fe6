using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Resources;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Storage;
using TotpCore = SecureMailbox.Portal.Accounts.TwoFactor.Totp;

namespace SecureMailbox.Portal.Tests.Accounts;

/// <summary>Re-authentication, password change, the Security page and account deletion, through the real host.</summary>
[TestFixture]
public sealed class AccountSecurityTests
{
    private const string NewPassword = "ett helt nytt lösenord för kontot";

    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private Task<HttpClient> SignedInAsync() => AccountSecurityJourney.SignedInAsync(_portal);

    private async Task<T> PortalDbAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    private async Task<T> VaultAsync<T>(Func<VaultDbContext, Task<T>> query)
    {
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    private Task<Guid> PatientIdAsync() => VaultAsync(db => db.Accounts.Where(a => a.Email == PortalFactory.PatientAddress).Select(a => a.Id).SingleAsync());

    private Task<List<SecurityEventKind>> EventsAsync(Guid accountId) =>
        PortalDbAsync(db => db.SecurityEvents.Where(e => e.AccountId == accountId).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync());

    [TestCase("/settings/password")]
    [TestCase("/settings/delete")]
    public async Task SensitivePages_WithoutRecentConfirmation_AskForPasswordFirst(string path)
    {
        using var client = await SignedInAsync();

        var (status, _, response) = await client.PageAsync(path);

        Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Location(), Is.EqualTo("/settings/confirm?returnUrl=" + Uri.EscapeDataString(path)));
        using var post = await client.PostFormAsync(path, (await client.PageAsync("/settings")).Html, ("password", NewPassword), ("confirm", NewPassword), ("understood", "true"));
        Assert.That(post.Location(), Does.StartWith("/settings/confirm"), "a POST without confirmation changes nothing");
        Assert.That(await VaultAsync(db => db.Accounts.CountAsync(a => a.Email == PortalFactory.PatientAddress)), Is.EqualTo(1));
    }

    [Test]
    public async Task Confirm_WrongPasswordRefusedAndCounted_RightOneOpensThePageForTenMinutes()
    {
        using var client = await SignedInAsync();
        var accountId = await PatientIdAsync();

        using var wrong = await AccountSecurityJourney.ConfirmAsync(client, "/settings/password", "inte mitt lösenord");
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(BrowserSteps.Text(await wrong.Content.ReadAsStringAsync()), Does.Contain("Fel lösenord"));
        Assert.That(await PortalDbAsync(db => db.RateCounters.Where(e => e.Key == "signin-account:" + PortalFactory.PatientAddress).SumAsync(e => e.Count)), Is.EqualTo(1), "counts towards the throttling");

        using var right = await AccountSecurityJourney.ConfirmAsync(client, "/settings/password", RecipientJourney.Password);
        Assert.That(right.Location(), Is.EqualTo("/settings/password"));
        Assert.That((await client.PageAsync("/settings/password")).Status, Is.EqualTo(HttpStatusCode.OK));

        _portal.Time.Advance(SecureMailbox.Portal.Sessions.SessionStore.ReauthenticationWindow + TimeSpan.FromSeconds(1));
        Assert.That((await client.PageAsync("/settings/password")).Status, Is.EqualTo(HttpStatusCode.Redirect), "the confirmation expires");
        Assert.That(await EventsAsync(accountId), Does.Contain(SecurityEventKind.SignInFailed).And.Contain(SecurityEventKind.Reauthenticated));
    }

    [TestCase("https://evil.example/settings")]
    [TestCase("//evil.example/")]
    [TestCase("/mailbox")]
    [TestCase("/settingsx")]
    [TestCase("javascript:alert(1)")]
    public async Task Confirm_ReturnUrlOutsideSettings_GoesToSettings(string returnUrl)
    {
        using var client = await SignedInAsync();

        using var response = await AccountSecurityJourney.ConfirmAsync(client, returnUrl, RecipientJourney.Password);

        Assert.That(response.Location(), Is.EqualTo("/settings"));
    }

    [Test]
    public async Task Confirm_WithTwoFactor_NeedsTheAppCodeOrABackupCode()
    {
        using var client = await SignedInAsync();
        var (secret, codes) = await AccountSecurityJourney.EnableTwoFactorAsync(_portal, client);

        using var passwordOnly = await AccountSecurityJourney.ConfirmAsync(client, "/settings/password", RecipientJourney.Password);
        using var wrongCode = await AccountSecurityJourney.ConfirmAsync(client, "/settings/password", RecipientJourney.Password, code: "000000");
        Assert.That(passwordOnly.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(wrongCode.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await client.PageAsync("/settings/password")).Status, Is.EqualTo(HttpStatusCode.Redirect));

        using var withCode = await AccountSecurityJourney.ConfirmAsync(client, "/settings/password", RecipientJourney.Password, code: TotpCore.ComputeAt(secret, _portal.Time.GetUtcNow()));
        Assert.That(withCode.Location(), Is.EqualTo("/settings/password"));

        _portal.Time.Advance(TimeSpan.FromMinutes(11));
        using var withBackup = await AccountSecurityJourney.ConfirmAsync(client, "/settings/delete", RecipientJourney.Password, backupCode: codes[0]);
        using var reused = await AccountSecurityJourney.ConfirmAsync(client, "/settings/delete", RecipientJourney.Password, backupCode: codes[0]);
        Assert.That(withBackup.Location(), Is.EqualTo("/settings/delete"));
        Assert.That(reused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a backup code works once");
        Assert.That(await PortalDbAsync(db => db.BackupCodes.CountAsync()), Is.EqualTo(9));
    }

    [Test]
    public async Task ChangePassword_RewrapsTheSameKey_EndsOtherSessions_AndTellsTheOwner()
    {
        using var client = await SignedInAsync();
        using var other = _portal.Browser();
        using (var otherSignIn = await RecipientJourney.SignInAsync(other, PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(otherSignIn.Location(), Is.EqualTo("/mailbox"));
        }
        var accountId = await PatientIdAsync();
        var publicKey = await VaultAsync(db => db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).SingleAsync());
        using var confirmed = await AccountSecurityJourney.ConfirmAsync(client, "/settings/password", RecipientJourney.Password);
        var form = await client.PageAsync("/settings/password");

        using var weak = await client.PostFormAsync("/settings/password", form.Html, ("password", "password123"), ("confirm", "password123"));
        using var mismatch = await client.PostFormAsync("/settings/password", form.Html, ("password", NewPassword), ("confirm", NewPassword + "x"));
        using var control = await client.PostFormAsync("/settings/password", form.Html, ("password", "nytt\u0000lösenord med nul"), ("confirm", "nytt\u0000lösenord med nul"));
        using var tooLong = await client.PostFormAsync("/settings/password", form.Html, ("password", new string('å', 300)), ("confirm", new string('å', 300)));
        Assert.That(new[] { weak.StatusCode, mismatch.StatusCode, control.StatusCode, tooLong.StatusCode }, Has.All.EqualTo(HttpStatusCode.BadRequest));

        using var changed = await client.PostFormAsync("/settings/password", form.Html, ("password", NewPassword), ("confirm", NewPassword));
        Assert.That(changed.Location(), Is.EqualTo("/settings/password?changed=true"));

        Assert.That((await other.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.Redirect), "the other session ended");
        var inbox = await client.PageAsync("/mailbox");
        Assert.That(inbox.Status, Is.EqualTo(HttpStatusCode.OK), "this session goes on");
        Assert.That(inbox.Html, Does.Contain("Provsvar"), "the same key: the message still opens");
        using var fresh = _portal.Browser();
        using var oldPassword = await RecipientJourney.SignInAsync(fresh, PortalFactory.PatientAddress, RecipientJourney.Password);
        using var newPassword = await RecipientJourney.SignInAsync(fresh, PortalFactory.PatientAddress, NewPassword);
        Assert.That(oldPassword.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(newPassword.Location(), Is.EqualTo("/mailbox"));
        Assert.That(await VaultAsync(db => db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).SingleAsync()), Is.EqualTo(publicKey));
        Assert.That(await EventsAsync(accountId), Does.Contain(SecurityEventKind.PasswordChanged));
        var notices = await _portal.QueuedMailToAsync(PortalFactory.PatientAddress);
        Assert.That(notices.Select(m => m.TextBody), Has.Some.Contain("Lösenordet till ditt SecureMailbox-konto har bytts"));
        Assert.That(string.Concat(notices.Select(m => m.TextBody)), Does.Not.Contain(NewPassword));
    }

    [Test]
    public async Task SecurityPage_ListsSessionsAndEvents_AndSignsOutAnotherSession()
    {
        using var client = await SignedInAsync();
        using var phone = _portal.Browser();
        phone.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1");
        using (var failed = await RecipientJourney.SignInAsync(phone, PortalFactory.PatientAddress, "fel lösenord igen"))
        {
            Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
        using (var signedIn = await RecipientJourney.SignInAsync(phone, PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(signedIn.Location(), Is.EqualTo("/mailbox"));
        }

        var page = await client.PageAsync("/settings/security");
        var text = BrowserSteps.Text(page.Html);
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(text, Does.Contain("Safari · iOS").And.Contain("Den här"));
        Assert.That(text, Does.Contain("Misslyckad inloggning").And.Contain("Inloggning"));
        Assert.That(page.Html, Does.Not.Contain("fel lösenord igen").And.Not.Contain(RecipientJourney.Password));

        var sessions = await PortalDbAsync(db => db.Sessions.ToListAsync());
        var phoneSession = sessions.Single(s => s.Device == "Safari · iOS");
        using var ended = await client.PostFormAsync("/settings/security?handler=End", page.Html, ("id", phoneSession.Id));
        Assert.That(ended.Location(), Is.EqualTo("/settings/security?ended=true"));
        Assert.That((await phone.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.Redirect), "that session is signed out");
        Assert.That((await client.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.OK), "this one is not");
    }

    [TestCase("")]
    [TestCase("not-a-session")]
    [TestCase("0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task SecurityPage_EndingAnUnknownOrForeignSession_ChangesNothing(string id)
    {
        using var client = await SignedInAsync();
        var (token, _) = await _portal.StoreMessageAsync("Till Bo", recipient: "bo@patient.example", phone: "+46701234568");
        using var bo = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, bo, token);
        var boId = await VaultAsync(db => db.Accounts.Where(a => a.Email == "bo@patient.example").Select(a => a.Id).SingleAsync());
        var boSession = await PortalDbAsync(db => db.Sessions.FirstAsync(s => s.AccountId == boId));
        var page = await client.PageAsync("/settings/security");

        using var unknown = await client.PostFormAsync("/settings/security?handler=End", page.Html, ("id", id));
        using var foreign = await client.PostFormAsync("/settings/security?handler=End", page.Html, ("id", boSession.Id));

        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "another account's session is not this account's to end");
        Assert.That((await bo.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task DeleteAccount_RemovesEverythingAtOnce_KeepsOthersMessages_AndSendsAFinalMail()
    {
        using var client = await SignedInAsync();
        var (secret, _) = await AccountSecurityJourney.EnableTwoFactorAsync(_portal, client);
        // Counters that name the person: a forgot-password request and a registration attempt for the address.
        using (var other = _portal.Browser())
        {
            var forgot = await other.PageAsync("/signin/forgot");
            using var asked = await other.PostFormAsync("/signin/forgot", forgot.Html, ("email", PortalFactory.PatientAddress));
            var register = await other.PageAsync("/register");
            using var registered = await other.PostFormAsync("/register", register.Html, ("email", PortalFactory.PatientAddress), ("phone", PortalFactory.PatientPhone));
            Assert.That(registered.Location(), Is.EqualTo("/register/sent"));
        }
        Assert.That(await PortalDbAsync(db => db.RateCounters.CountAsync(e => e.Key.Contains(PortalFactory.PatientAddress))), Is.GreaterThanOrEqualTo(2));
        var (_, onlyAnna) = await _portal.StoreMessageAsync("Bara till Anna");
        var accountId = await PatientIdAsync();
        // The sender purged their copy of the second message: Anna is its last reader, so it must go with her.
        await VaultAsync(db => db.MailboxItems.Where(i => i.MessageId == onlyAnna.MessageId && i.AccountId != accountId).ExecuteDeleteAsync());
        var first = await VaultAsync(db => db.MailboxItems.Where(i => i.AccountId == accountId).Select(i => i.MessageId).FirstAsync(id => id != onlyAnna.MessageId));
        var blobs = (FolderBlobStore)_portal.Services.GetRequiredService<IBlobStore>();
        var onlyAnnaBlob = await VaultAsync(db => db.Messages.Where(m => m.Id == onlyAnna.MessageId).Select(m => blobs.PathOf(m.Region, m.BlobName)).SingleAsync());
        var sharedBlob = await VaultAsync(db => db.Messages.Where(m => m.Id == first).Select(m => blobs.PathOf(m.Region, m.BlobName)).SingleAsync());
        Assert.That(File.Exists(onlyAnnaBlob) && File.Exists(sharedBlob), Is.True);

        using var confirmed = await AccountSecurityJourney.ConfirmAsync(client, "/settings/delete", RecipientJourney.Password, code: TotpCore.ComputeAt(secret, _portal.Time.GetUtcNow()));
        var page = await client.PageAsync("/settings/delete");
        Assert.That(BrowserSteps.Text(page.Html), Does.Contain(PortalFactory.PatientAddress).And.Contain("raderas direkt"));
        using var unticked = await client.PostFormAsync("/settings/delete", page.Html);
        Assert.That(unticked.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await VaultAsync(db => db.Accounts.CountAsync(a => a.Id == accountId)), Is.EqualTo(1));

        using var deleted = await client.PostFormAsync("/settings/delete", page.Html, ("understood", "true"));
        Assert.That(deleted.Location(), Is.EqualTo("/account-deleted"));
        Assert.That((await client.PageAsync("/account-deleted")).Status, Is.EqualTo(HttpStatusCode.OK));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await VaultAsync(db => db.Accounts.CountAsync(a => a.Id == accountId)), Is.Zero);
            Assert.That(await VaultAsync(db => db.AccountKeys.CountAsync(k => k.AccountId == accountId)), Is.Zero);
            Assert.That(await VaultAsync(db => db.MailboxItems.CountAsync(i => i.AccountId == accountId)), Is.Zero);
            Assert.That(await VaultAsync(db => db.Links.CountAsync(l => l.AccountId == accountId)), Is.Zero);
            Assert.That(await VaultAsync(db => db.Messages.CountAsync(m => m.Id == onlyAnna.MessageId)), Is.Zero);
            Assert.That(File.Exists(onlyAnnaBlob), Is.False, "the message nobody else reads is securely deleted");
            Assert.That(await VaultAsync(db => db.MailboxItems.CountAsync(i => i.MessageId == first)), Is.EqualTo(1), "the sender's copy stays");
            Assert.That(File.Exists(sharedBlob), Is.True, "and its payload");
            Assert.That(await PortalDbAsync(db => db.Sessions.CountAsync(s => s.AccountId == accountId)), Is.Zero);
            Assert.That(await PortalDbAsync(db => db.TwoFactorSecrets.CountAsync(t => t.AccountId == accountId)), Is.Zero);
            Assert.That(await PortalDbAsync(db => db.BackupCodes.CountAsync(b => b.AccountId == accountId)), Is.Zero);
            Assert.That(await PortalDbAsync(db => db.SecurityEvents.CountAsync(e => e.AccountId == accountId)), Is.Zero);
            Assert.That(await PortalDbAsync(db => db.PreSessions.CountAsync(p => p.AccountId == accountId)), Is.Zero);
            Assert.That(await PortalDbAsync(db => db.RateCounters.CountAsync(e => e.Key.Contains(PortalFactory.PatientAddress) || e.Key.Contains(PortalFactory.PatientPhone))), Is.Zero);
        });
        var mails = await _portal.QueuedMailToAsync(PortalFactory.PatientAddress);
        // Queued mails share the test's frozen clock, so their order is not asserted: exactly one is the final mail.
        Assert.That(mails.Select(m => m.TextBody), Has.Exactly(1).Contain("Ditt SecureMailbox-konto och alla dina meddelanden"));
        Assert.That((await client.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.Redirect), "signed out");
        using var signIn = await RecipientJourney.SignInAsync(_portal.Browser(), PortalFactory.PatientAddress, RecipientJourney.Password);
        Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the account is gone");
        Assert.That(_portal.Logs.Lines, Has.None.Contain(PortalFactory.PatientAddress).And.None.Contain(PortalFactory.PatientPhone), "no log line names the person");
    }

    [Test]
    public async Task DeleteAccount_BothDatabaseFilesHoldNoTraceOfTheAddress()
    {
        using var client = await SignedInAsync();
        using var confirmed = await AccountSecurityJourney.ConfirmAsync(client, "/settings/delete", RecipientJourney.Password);
        var page = await client.PageAsync("/settings/delete");

        using var deleted = await client.PostFormAsync("/settings/delete", page.Html, ("understood", "true"));
        Assert.That(deleted.Location(), Is.EqualTo("/account-deleted"));

        // secure_delete overwrites deleted rows, and the deletion checkpoints the write-ahead logs: the files as they
        // are now (database and WAL) hold no trace.
        var vaultFile = System.Text.Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(_portal.Data.Path, "securemailbox.db")));
        var portalFile = System.Text.Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(_portal.Data.Path, "portal.db")));
        foreach (var wal in Directory.GetFiles(_portal.Data.Path, "*.db-wal"))
        {
            var text = System.Text.Encoding.UTF8.GetString(await File.ReadAllBytesAsync(wal));
            Assert.That(text, Does.Not.Contain(PortalFactory.PatientPhone), wal);
        }
        Assert.That(portalFile, Does.Not.Contain(PortalFactory.PatientAddress).And.Not.Contain(PortalFactory.PatientPhone));
        // The vault keeps the final notice's envelope (in the outbound queue, until delivered) and nothing else.
        var outbound = await VaultAsync(db => db.OutboundRecipients.CountAsync(r => r.Address == PortalFactory.PatientAddress));
        Assert.That(CountOf(vaultFile, PortalFactory.PatientAddress), Is.LessThanOrEqualTo(outbound));
        Assert.That(vaultFile, Does.Not.Contain(PortalFactory.PatientPhone));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    [Test]
    public async Task SignIn_UnknownAndExistingAccounts_TakeComparableTime()
    {
        using var setup = await SignedInAsync();
        using var client = _portal.Browser();
        var unknown = new List<double>();
        var existing = new List<double>();
        // Interleaved, so machine noise hits both alike; one Argon2id unwrap each is what makes them equal.
        for (var i = 0; i < 6; i++)
        {
            unknown.Add(await TimeAsync(() => RecipientJourney.SignInAsync(client, $"nobody{i}@example.org", "fel lösenord " + i)));
            existing.Add(await TimeAsync(() => RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, "fel lösenord " + i)));
        }
        var ratio = Median(existing) / Median(unknown);
        Assert.That(ratio, Is.InRange(0.5, 2.0), $"existing {Median(existing):F1} ms vs unknown {Median(unknown):F1} ms");
    }

    private static async Task<double> TimeAsync(Func<Task<HttpResponseMessage>> request)
    {
        var watch = Stopwatch.StartNew();
        using var response = await request();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    [Test]
    public void EverySecurityEvent_HasTextInBothLanguages()
    {
        var resources = new ResourceManager("SecureMailbox.Portal.Resources.Localization.SharedResource", typeof(SharedResource).Assembly);
        foreach (var kind in Enum.GetValues<SecurityEventKind>())
        {
            Assert.That(resources.GetString("Event" + kind, CultureInfo.GetCultureInfo("sv")), Is.Not.Null.And.Not.Empty, kind + " sv");
            Assert.That(resources.GetString("Event" + kind, CultureInfo.GetCultureInfo("en")), Is.Not.Null.And.Not.Empty, kind + " en");
        }
    }
}
