using System.IO.Compression;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Tests.Accounts;

/// <summary>"Glömt ditt lösenord": SMS reset with a new key (messages locked), backup-code reset (nothing lost), through the real host.</summary>
[TestFixture]
public sealed class ForgotPasswordTests
{
    private const string Page = "/signin/forgot";

    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private VaultDbContext Vault() => _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContext();

    private PortalDbContext PortalDb() => _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();

    /// <summary>Step 1 on a fresh client: the address; returns the next page's HTML.</summary>
    private static async Task<string> AskAsync(HttpClient client, string email)
    {
        var form = await client.PageAsync(Page);
        Assert.That(form.Html, Does.Contain("name=\"email\"").And.Contain("__csrf"), form.Html);
        using var posted = await client.PostFormAsync(Page, form.Html, ("email", email));
        Assert.That(posted.Location(), Is.EqualTo(Page));
        var next = await client.PageAsync(Page);
        Assert.That(next.Status, Is.EqualTo(HttpStatusCode.OK));
        return next.Html;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string handler, params (string Key, string Value)[] fields)
    {
        var page = await client.PageAsync(Page);
        return await client.PostFormAsync(Page + "?handler=" + handler, page.Html, fields);
    }

    private static string WrongSmsCode(string right) => right == "000000" ? "111111" : "000000";

    /// <summary>Address, SMS code, (app code), the locked list, the new password: a signed-in client.</summary>
    private async Task<HttpClient> ResetBySmsAsync(byte[]? totpSecret = null)
    {
        var client = _portal.Browser();
        await AskAsync(client, PortalFactory.PatientAddress);
        using (var sms = await PostAsync(client, "Sms", ("code", _portal.LatestSmsCode())))
        {
            Assert.That(sms.Location(), Is.EqualTo(Page));
        }
        if (totpSecret is not null)
        {
            using var app = await PostAsync(client, "Authenticator", ("code", RecoveryJourney.CodeNow(_portal, totpSecret)));
            Assert.That(app.Location(), Is.EqualTo(Page));
        }
        using var reset = await PostAsync(client, "Reset", ("password", RecoveryJourney.NewPassword), ("confirm", RecoveryJourney.NewPassword), ("understood", "true"));
        if (totpSecret is null)
        {
            Assert.That(reset.Location(), Is.EqualTo("/mailbox"));
        }
        else
        {
            Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        return client;
    }

    [Test]
    public async Task SmsReset_OldMessageLockedWithResendRequest_NewMessageReadable_OldSessionsEnded()
    {
        var (first, itemId) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        using var firstClient = first;
        using var second = _portal.Browser();
        using (var signIn = await RecipientJourney.SignInAsync(second, PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(signIn.Location(), Is.EqualTo("/mailbox"));
        }

        using var client = _portal.Browser();
        var codePage = BrowserSteps.Text(await AskAsync(client, PortalFactory.PatientAddress));
        Assert.That(codePage, Does.Contain("Om adressen har ett konto har vi skickat en kod till dess registrerade mobilnummer"));
        Assert.That(codePage, Does.Contain("Skicka till min reservtelefon i stället").And.Contain("Jag har en reservkod i stället"));
        using (var sms = await PostAsync(client, "Sms", ("code", _portal.LatestSmsCode())))
        {
            Assert.That(sms.Location(), Is.EqualTo(Page));
        }
        // Before confirming, the page says which messages stay locked: folder, date, sender, and the count.
        var confirmPage = BrowserSteps.Text((await client.PageAsync(Page)).Html);
        Assert.That(confirmPage, Does.Contain("1 meddelanden kommer att vara låsta").And.Contain(PortalFactory.SenderAddress).And.Contain("Inkorg"));
        Assert.That(confirmPage, Does.Not.Contain("Provsvar"), "the subject is encrypted: the server cannot show it");
        using (var notUnderstood = await PostAsync(client, "Reset", ("password", RecoveryJourney.NewPassword), ("confirm", RecoveryJourney.NewPassword)))
        {
            Assert.That(notUnderstood.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        using (var weak = await PostAsync(client, "Reset", ("password", "kort"), ("confirm", "kort"), ("understood", "true")))
        {
            Assert.That(weak.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        await using (var vault = Vault())
        {
            Assert.That(await vault.MailboxItems.CountAsync(i => i.LockedAt != null), Is.Zero, "nothing changes before the confirmation");
        }
        using (var reset = await PostAsync(client, "Reset", ("password", RecoveryJourney.NewPassword), ("confirm", RecoveryJourney.NewPassword), ("understood", "true")))
        {
            Assert.That(reset.Location(), Is.EqualTo("/mailbox"));
        }

        // The list shows the old message as locked, with its sender; reading does not try to decrypt it.
        var list = BrowserSteps.Text((await client.PageAsync("/mailbox")).Html);
        Assert.That(list, Does.Contain("Låst meddelande från " + PortalFactory.SenderAddress));
        var read = await client.PageAsync($"/mailbox/m/{itemId}");
        Assert.That(read.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain("Det här meddelandet är låst").And.Contain("Be avsändaren skicka igen").And.Not.Contain(PortalFactory.BodySentence));
        Assert.That((await client.PageAsync($"/mailbox/m/{itemId}/reply")).Status, Is.EqualTo(HttpStatusCode.NotFound), "no reply to what cannot be read");
        Assert.That((await client.PageAsync($"/mailbox/m/{itemId}/a/0")).Status, Is.EqualTo(HttpStatusCode.NotFound));

        // One click asks the sender once: the mail names the reader and the date, never content.
        using (var ask = await client.PostFormAsync($"/mailbox/m/{itemId}?handler=RequestResend", read.Html))
        {
            Assert.That(ask.Location(), Is.EqualTo($"/mailbox/m/{itemId}"));
        }
        using (var again = await client.PostFormAsync($"/mailbox/m/{itemId}?handler=RequestResend", read.Html))
        {
            Assert.That(again.Location(), Is.EqualTo($"/mailbox/m/{itemId}"));
        }
        var afterAsk = BrowserSteps.Text((await client.PageAsync($"/mailbox/m/{itemId}")).Html);
        Assert.That(afterAsk, Does.Contain("Förfrågan är skickad till avsändaren").And.Not.Contain("Be avsändaren skicka igen"));
        var resendMails = (await _portal.QueuedMailToAsync(PortalFactory.SenderAddress)).Where(m => (m.Subject ?? "").Contains("skicka meddelandet igen", StringComparison.Ordinal)).ToList();
        Assert.That(resendMails, Has.Count.EqualTo(1));
        Assert.That(resendMails[0].TextBody, Does.Contain(PortalFactory.PatientAddress).And.Not.Contain("Provsvar").And.Not.Contain(PortalFactory.BodySentence));
        await using (var vault = Vault())
        {
            var item = await vault.MailboxItems.SingleAsync(i => i.Id == itemId);
            Assert.That(item.LockedAt, Is.Not.Null);
            Assert.That(item.ResendRequestedAt, Is.Not.Null);
            Assert.That(resendMails[0].TextBody, Does.Contain(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(item.CreatedAt, DateTimeKind.Utc), TimeZoneInfo.FindSystemTimeZoneById("Europe/Stockholm")).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)).And.Not.Contain("UTC"));
        }

        // A message that arrives after the reset is encrypted to the new key and reads fine.
        var (_, stored) = await _portal.StoreMessageAsync("Nytt provsvar");
        Assert.That(stored.Readers.Single(r => !r.IsSender).Token, Is.Not.Empty);
        var newList = await client.PageAsync("/mailbox");
        Assert.That(BrowserSteps.Text(newList.Html), Does.Contain("Nytt provsvar"));
        await using (var vault = Vault())
        {
            var newItem = await vault.MailboxItems.Where(i => i.LockedAt == null && i.Folder == Folder.Inbox).SingleAsync();
            var newRead = await client.PageAsync($"/mailbox/m/{newItem.Id}");
            Assert.That(BrowserSteps.Text(newRead.Html), Does.Contain(PortalFactory.BodySentence));
        }

        // Export leaves the locked message out (nothing could open it) and keeps the new one.
        using (var confirmed = await AccountSecurityJourney.ConfirmAsync(client, "/export", RecoveryJourney.NewPassword))
        {
            Assert.That(confirmed.Location(), Is.EqualTo("/export"));
        }
        var exportPage = await client.PageAsync("/export");
        using (var export = await client.PostFormAsync("/export", exportPage.Html))
        {
            Assert.That(export.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            using var zip = new ZipArchive(await export.Content.ReadAsStreamAsync());
            Assert.That(zip.Entries.Count(e => e.FullName.EndsWith(".age", StringComparison.Ordinal)), Is.EqualTo(1));
            Assert.That(zip.Entries.Any(e => e.FullName.Contains(itemId.ToString("N"), StringComparison.Ordinal)), Is.False);
        }

        // The old sessions are gone; the new password works, the old one does not.
        Assert.That((await firstClient.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"));
        Assert.That((await second.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"));
        using var fresh = _portal.Browser();
        using (var old = await RecipientJourney.SignInAsync(fresh, PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
        using (var signIn = await RecipientJourney.SignInAsync(fresh, PortalFactory.PatientAddress, RecoveryJourney.NewPassword))
        {
            Assert.That(signIn.Location(), Is.EqualTo("/mailbox"));
        }

        // The owner is told, and the security log has the reset.
        var notices = await _portal.QueuedMailToAsync(PortalFactory.PatientAddress);
        Assert.That(notices.Count(m => (m.TextBody ?? "").Contains("återställts med en SMS-kod", StringComparison.Ordinal)), Is.EqualTo(1));
        await using var db = PortalDb();
        Assert.That(await db.SecurityEvents.CountAsync(e => e.Kind == SecurityEventKind.PasswordResetWithNewKey), Is.EqualTo(1));

        // A locked item can still go to the trash and be purged.
        var lockedRead = await client.PageAsync($"/mailbox/m/{itemId}");
        using (var trash = await client.PostFormAsync($"/mailbox/m/{itemId}?handler=Delete", lockedRead.Html))
        {
            Assert.That(trash.Location(), Is.EqualTo("/mailbox?done=deleted"));
        }
        Assert.That(BrowserSteps.Text((await client.PageAsync("/mailbox/trash")).Html), Does.Contain("Låst meddelande från"));
        using (var unconfirmed = await client.PostFormAsync($"/mailbox/m/{itemId}?handler=Purge", lockedRead.Html))
        {
            Assert.That(unconfirmed.Location(), Is.EqualTo($"/mailbox/m/{itemId}?confirm=purge"), "deleting for good asks once more");
        }
        using (var purge = await client.PostFormAsync($"/mailbox/m/{itemId}?handler=Purge", lockedRead.Html, ("confirmed", "true")))
        {
            Assert.That(purge.Location(), Is.EqualTo("/mailbox/trash?done=purged"));
        }
        await using var after = Vault();
        Assert.That(await after.MailboxItems.AnyAsync(i => i.Id == itemId), Is.False);
    }

    [Test]
    public async Task SmsReset_DatabaseHoldsNothingThatOpensTheOldMessage()
    {
        var (client, itemId) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();
        var accountId = await RecoveryJourney.AccountIdAsync(_portal);
        AgeIdentity oldKey;
        string oldStanza;
        byte[] oldWrapped;
        await using (var vault = Vault())
        {
            oldWrapped = (await vault.AccountKeys.SingleAsync(k => k.AccountId == accountId && k.Kind == AccountKeyKind.Password)).WrappedKey;
            oldKey = PrivateKeyWrap.UnwrapIdentityWithPassword(oldWrapped, RecipientJourney.Password, KeyWrapPurpose.Password, AccountKeys.PasswordKeyId(accountId));
            Assert.That(oldKey.Recipient.ToString(), Is.EqualTo((await vault.Accounts.SingleAsync(a => a.Id == accountId)).PublicKey));
            oldStanza = (await vault.MailboxItems.SingleAsync(i => i.Id == itemId)).Stanza;
        }
        using (oldKey)
        {
            using var reset = await ResetBySmsAsync();

            await using var vault = Vault();
            var account = await vault.Accounts.SingleAsync(a => a.Id == accountId);
            Assert.That(account.PublicKey, Is.Not.EqualTo(oldKey.Recipient.ToString()));
            var keys = await vault.AccountKeys.Where(k => k.AccountId == accountId).ToListAsync();
            Assert.That(keys.Select(k => k.Kind), Is.EqualTo(new[] { AccountKeyKind.Password }), "one wrap left: the new password's");
            foreach (var key in keys)
            {
                Assert.Throws<KeyUnwrapException>(() => PrivateKeyWrap.UnwrapIdentityWithPassword(key.WrappedKey, RecipientJourney.Password, KeyWrapPurpose.Password, AccountKeys.PasswordKeyId(accountId)));
            }
            using var newKey = PrivateKeyWrap.UnwrapIdentityWithPassword(keys[0].WrappedKey, RecoveryJourney.NewPassword, KeyWrapPurpose.Password, AccountKeys.PasswordKeyId(accountId));
            Assert.That(newKey.Recipient.ToString(), Is.EqualTo(account.PublicKey).And.Not.EqualTo(oldKey.Recipient.ToString()));

            // What was lost is only the key: the stored stanza is unchanged and opens with the old key, not the new one.
            var item = await vault.MailboxItems.SingleAsync(i => i.Id == itemId);
            Assert.That(item.LockedAt, Is.Not.Null);
            Assert.That(item.Stanza, Is.EqualTo(oldStanza));
            Assert.DoesNotThrow(() => VaultReader.UnwrapFileKey(item.Stanza, oldKey).Dispose());
            Assert.That(() => VaultReader.UnwrapFileKey(item.Stanza, newKey), Throws.Exception);

            await using var db = PortalDb();
            Assert.That(await db.BackupCodes.CountAsync(b => b.AccountId == accountId), Is.Zero);
            Assert.That(await db.PendingSignIns.CountAsync(p => p.AccountId == accountId), Is.Zero);
            Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
            var sessions = await db.Sessions.Where(s => s.AccountId == accountId).ToListAsync();
            Assert.That(sessions, Has.Count.EqualTo(1), "only the session the reset signed in with (it wraps the new key)");

            // Nor is the old wrap left behind in the database files (secure_delete, WAL checkpointed).
            foreach (var file in Directory.GetFiles(_portal.Data.Path, "*.db*"))
            {
                var bytes = await File.ReadAllBytesAsync(file);
                Assert.That(bytes.AsSpan().IndexOf(oldWrapped.AsSpan(oldWrapped.Length - 48)), Is.EqualTo(-1), Path.GetFileName(file));
            }
        }
    }

    [Test]
    public async Task SmsReset_WithTwoFactor_NeedsTheAppCode_AndReplacesTheBackupCodes()
    {
        var (client, itemId) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        var (secret, oldCodes) = await AccountSecurityJourney.EnableTwoFactorAsync(_portal, client);
        client.Dispose();
        await using (var vault = Vault())
        {
            Assert.That(await vault.AccountKeys.CountAsync(k => k.Kind == AccountKeyKind.BackupCode), Is.EqualTo(10));
        }

        using var attacker = _portal.Browser();
        await AskAsync(attacker, PortalFactory.PatientAddress);
        using (var sms = await PostAsync(attacker, "Sms", ("code", _portal.LatestSmsCode())))
        {
            Assert.That(sms.Location(), Is.EqualTo(Page));
        }
        Assert.That(BrowserSteps.Text((await attacker.PageAsync(Page)).Html), Does.Contain("en SMS-kod ensam räcker inte"));
        // Without the app code the reset is refused; a wrong app code counts as a failure.
        using (var skip = await PostAsync(attacker, "Reset", ("password", RecoveryJourney.NewPassword), ("confirm", RecoveryJourney.NewPassword), ("understood", "true")))
        {
            Assert.That(skip.Location(), Is.EqualTo(Page));
        }
        using (var wrong = await PostAsync(attacker, "Authenticator", ("code", RecoveryJourney.CodeNow(_portal, secret) == "000000" ? "111111" : "000000")))
        {
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(BrowserSteps.Text(await wrong.Content.ReadAsStringAsync()), Does.Contain("Koden stämmer inte"));
        }
        await using (var vault = Vault())
        {
            Assert.That(await vault.MailboxItems.CountAsync(i => i.LockedAt != null), Is.Zero);
            var password = await vault.AccountKeys.SingleAsync(k => k.Kind == AccountKeyKind.Password);
            Assert.DoesNotThrow(() => PrivateKeyWrap.UnwrapIdentityWithPassword(password.WrappedKey, RecipientJourney.Password, KeyWrapPurpose.Password,
                AccountKeys.PasswordKeyId(password.AccountId)).Dispose(), "the old password still works");
        }
        await using (var db = PortalDb())
        {
            Assert.That(await db.RecoveryRequests.Select(r => r.Attempts).SingleAsync(), Is.EqualTo(1));
        }

        using (var app = await PostAsync(attacker, "Authenticator", ("code", RecoveryJourney.CodeNow(_portal, secret))))
        {
            Assert.That(app.Location(), Is.EqualTo(Page));
        }
        using var reset = await PostAsync(attacker, "Reset", ("password", RecoveryJourney.NewPassword), ("confirm", RecoveryJourney.NewPassword), ("understood", "true"));
        var html = await reset.Content.ReadAsStringAsync();
        Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var newCodes = RecoveryJourney.BackupCodes(html);
        Assert.That(newCodes, Has.Count.EqualTo(10));
        Assert.That(newCodes, Has.None.AnyOf(oldCodes.ToArray()));
        Assert.That(BrowserSteps.Text((await attacker.PageAsync($"/mailbox/m/{itemId}")).Html), Does.Contain("Be avsändaren skicka igen"));

        // The new codes wrap the new key; the old ones are gone. 2FA stays on.
        var accountId = await RecoveryJourney.AccountIdAsync(_portal);
        await using (var vault = Vault())
        {
            var publicKey = (await vault.Accounts.SingleAsync(a => a.Id == accountId)).PublicKey;
            var backup = await vault.AccountKeys.Where(k => k.Kind == AccountKeyKind.BackupCode).ToListAsync();
            Assert.That(backup, Has.Count.EqualTo(10));
            Assert.That(backup.Any(k => PrivateKeyWrapOpens(k, accountId, newCodes[0], publicKey!)), Is.True);
            Assert.That(backup.Any(k => PrivateKeyWrapOpens(k, accountId, oldCodes[0], publicKey!)), Is.False);
        }
        using var next = _portal.Browser();
        using (var signIn = await RecipientJourney.SignInAsync(next, PortalFactory.PatientAddress, RecoveryJourney.NewPassword))
        {
            Assert.That(signIn.Location(), Is.EqualTo("/signin/second-factor"), "2FA is still required");
        }
        var second = await next.PageAsync("/signin/second-factor");
        using (var oldCode = await next.PostFormAsync("/signin/second-factor", second.Html, ("backupCode", oldCodes[1])))
        {
            Assert.That(oldCode.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the old backup codes no longer work");
        }
        using (var newCode = await next.PostFormAsync("/signin/second-factor", second.Html, ("backupCode", newCodes[1])))
        {
            Assert.That(newCode.Location(), Is.EqualTo("/mailbox"));
        }
    }

    private static bool PrivateKeyWrapOpens(AccountKey key, Guid accountId, string code, string publicKey)
    {
        try
        {
            using var identity = PrivateKeyWrap.UnwrapIdentityWithPassword(key.WrappedKey, code.Replace("-", "", StringComparison.Ordinal), KeyWrapPurpose.BackupCode,
                SecureMailbox.Portal.Accounts.TwoFactor.BackupCodes.KeyId(accountId, key.Id));
            return identity.Recipient.ToString() == publicKey;
        }
        catch (KeyUnwrapException)
        {
            return false;
        }
    }

    [Test]
    public async Task BackupCodeReset_KeepsEveryMessageAndTwoFactor_CodeWorksOnce()
    {
        var (client, itemId) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        var (_, codes) = await AccountSecurityJourney.EnableTwoFactorAsync(_portal, client);
        using var other = client;

        using var reset = _portal.Browser();
        await AskAsync(reset, PortalFactory.PatientAddress);
        _portal.LatestSmsCode();
        using (var code = await PostAsync(reset, "BackupCode", ("backupCode", codes[0].ToLowerInvariant())))
        {
            Assert.That(code.Location(), Is.EqualTo(Page));
        }
        var passwordPage = BrowserSteps.Text((await reset.PageAsync(Page)).Html);
        Assert.That(passwordPage, Does.Contain("alla dina meddelanden går fortfarande att läsa").And.Not.Contain("låsta"));
        await using (var db = PortalDb())
        {
            var request = await db.RecoveryRequests.SingleAsync();
            Assert.That(request.WrappedKey, Is.Not.Null, "the key waits wrapped under the cookie's key");
            Assert.That(request.BackupCodeUsedAt, Is.Not.Null);
        }
        using (var done = await PostAsync(reset, "Reset", ("password", RecoveryJourney.NewPassword), ("confirm", RecoveryJourney.NewPassword)))
        {
            Assert.That(done.Location(), Is.EqualTo("/mailbox"));
        }
        Assert.That(BrowserSteps.Text((await reset.PageAsync($"/mailbox/m/{itemId}")).Html), Does.Contain(PortalFactory.BodySentence));
        Assert.That((await other.PageAsync("/mailbox")).Response.Headers.Location?.OriginalString, Does.StartWith("/signin"), "other sessions end");

        var accountId = await RecoveryJourney.AccountIdAsync(_portal);
        await using (var vault = Vault())
        {
            Assert.That(await vault.MailboxItems.CountAsync(i => i.LockedAt != null), Is.Zero);
            Assert.That(await vault.AccountKeys.CountAsync(k => k.Kind == AccountKeyKind.BackupCode), Is.EqualTo(9));
        }
        await using (var db = PortalDb())
        {
            Assert.That(await db.TwoFactorSecrets.SingleAsync(), Has.Property("EnabledAt").Not.Null);
            Assert.That(await db.BackupCodes.CountAsync(), Is.EqualTo(9));
            Assert.That(await db.SecurityEvents.CountAsync(e => e.AccountId == accountId && e.Kind == SecurityEventKind.PasswordResetWithBackupCode), Is.EqualTo(1));
            Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
        }
        var notices = await _portal.QueuedMailToAsync(PortalFactory.PatientAddress);
        Assert.That(notices.Count(m => (m.TextBody ?? "").Contains("återställts med en reservkod", StringComparison.Ordinal)), Is.EqualTo(1));

        // The used code does not work a second time.
        using var again = _portal.Browser();
        await AskAsync(again, PortalFactory.PatientAddress);
        using (var used = await PostAsync(again, "BackupCode", ("backupCode", codes[0])))
        {
            Assert.That(used.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(BrowserSteps.Text(await used.Content.ReadAsStringAsync()), Does.Contain("Reservkoden stämmer inte eller är redan använd"));
        }
        using var signIn = await RecipientJourney.SignInAsync(_portal.Browser(), PortalFactory.PatientAddress, RecoveryJourney.NewPassword);
        Assert.That(signIn.Location(), Is.EqualTo("/signin/second-factor"), "2FA stays on");
    }

    [Test]
    public async Task WrongExpiredAndTooManySmsCodes_Refused()
    {
        var (client, _) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();

        using var wrong = _portal.Browser();
        await AskAsync(wrong, PortalFactory.PatientAddress);
        var code = _portal.LatestSmsCode();
        using (var refused = await PostAsync(wrong, "Sms", ("code", WrongSmsCode(code))))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(BrowserSteps.Text(await refused.Content.ReadAsStringAsync()), Does.Contain("Koden stämmer inte eller gäller inte längre"));
        }
        // Expired: the right code after 11 minutes gets the same answer.
        _portal.Time.Advance(TimeSpan.FromMinutes(11));
        using (var expired = await PostAsync(wrong, "Sms", ("code", code)))
        {
            Assert.That(expired.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(BrowserSteps.Text(await expired.Content.ReadAsStringAsync()), Does.Contain("Koden stämmer inte eller gäller inte längre"));
        }
        await using (var db = PortalDb())
        {
            Assert.That((await db.RecoveryRequests.SingleAsync()).SmsVerifiedAt, Is.Null);
        }

        // Too many attempts: the fifth wrong code ends the request; the right code is of no use after it.
        _portal.Time.Advance(TimeSpan.FromHours(2));
        using var many = _portal.Browser();
        await AskAsync(many, PortalFactory.PatientAddress);
        var right = _portal.LatestSmsCode();
        for (var i = 0; i < 4; i++)
        {
            using var attempt = await PostAsync(many, "Sms", ("code", WrongSmsCode(right)));
            Assert.That(attempt.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        using (var last = await PostAsync(many, "Sms", ("code", WrongSmsCode(right))))
        {
            Assert.That(BrowserSteps.Text(await last.Content.ReadAsStringAsync()), Does.Contain("För många felaktiga försök"));
        }
        using (var late = await PostAsync(many, "Sms", ("code", right)))
        {
            Assert.That(late.Location(), Is.EqualTo(Page));
        }
        Assert.That((await many.PageAsync(Page)).Html, Does.Contain("name=\"email\""), "back at the start");
        await using (var db = PortalDb())
        {
            Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
            Assert.That(await db.SecurityEvents.CountAsync(e => e.Kind == SecurityEventKind.SecondFactorFailed), Is.EqualTo(2 + 5), "every wrong or expired code is logged");
        }
        await using var vault = Vault();
        Assert.That(await vault.MailboxItems.CountAsync(i => i.LockedAt != null), Is.Zero);
    }

    [Test]
    public async Task UnknownAndPendingAddresses_GetTheIdenticalAnswers()
    {
        var (client, _) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();
        await _portal.StoreMessageAsync("Till en väntande", recipient: "bo@patient.example", phone: "+46701112233");
        var smsBefore = _portal.SmsCount();

        async Task<(HttpStatusCode Ask, string AskLocation, string CodePage, HttpStatusCode Wrong, string WrongPage, string BackupPhonePage, string BackupCodePage)> RunAsync(string email)
        {
            using var browser = _portal.Browser();
            var form = await browser.PageAsync(Page);
            using var asked = await browser.PostFormAsync(Page, form.Html, ("email", email));
            var codePage = await browser.PageAsync(Page);
            using var wrong = await PostAsync(browser, "Sms", ("code", "000000"));
            using var backupPhone = await PostAsync(browser, "BackupPhone");
            using var backupCode = await PostAsync(browser, "BackupCode", ("backupCode", "AAAAA-BBBBB"));
            return (asked.StatusCode, asked.Location(), RecoveryJourney.Comparable(codePage.Html), wrong.StatusCode,
                RecoveryJourney.Comparable(await wrong.Content.ReadAsStringAsync()),
                RecoveryJourney.Comparable(await backupPhone.Content.ReadAsStringAsync()),
                RecoveryJourney.Comparable(await backupCode.Content.ReadAsStringAsync()));
        }

        var known = await RunAsync(PortalFactory.PatientAddress);
        Assert.That(_portal.SmsCount(), Is.EqualTo(smsBefore + 1), "the account's phone got a code");
        var unknown = await RunAsync("nobody@nowhere.example");
        var pending = await RunAsync("bo@patient.example");
        Assert.That(unknown, Is.EqualTo(known));
        Assert.That(pending, Is.EqualTo(known));
        Assert.That(_portal.SmsCount(), Is.EqualTo(smsBefore + 1), "nothing is sent for unknown or pending addresses");
        await using var db = PortalDb();
        Assert.That(await db.RecoveryRequests.CountAsync(r => r.AccountId == null), Is.EqualTo(2), "unknown addresses get a request too");
    }

    [Test]
    public async Task GarbageInput_RefusedWithoutStateChange()
    {
        var (client, _) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();
        using var browser = _portal.Browser();
        var form = await browser.PageAsync(Page);
        foreach (var email in new[] { new string('a', 400) + "@patient.example", "anna\u0001@patient.example", "", "inte-en-adress" })
        {
            using var response = await browser.PostFormAsync(Page, form.Html, ("email", email));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), email);
            Assert.That(BrowserSteps.Text(await response.Content.ReadAsStringAsync()), Does.Contain("Skriv en giltig e-postadress"));
        }
        using (var huge = await browser.PostFormAsync(Page, form.Html, ("email", new string('x', 20_000))))
        {
            Assert.That(huge.StatusCode, Is.AnyOf(HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.BadRequest), "over the 16 KB form limit");
        }
        using (var noToken = await browser.PostFormAsync(Page, "", ("email", PortalFactory.PatientAddress)))
        {
            Assert.That(noToken.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "anti-forgery");
        }
        await using (var db = PortalDb())
        {
            Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
        }

        // A real request, then posts without its cookie, with a tampered one and with garbage: all lead back to the start.
        using var real = _portal.Browser();
        var start = await real.PageAsync(Page);
        using var asked = await real.PostFormAsync(Page, start.Html, ("email", PortalFactory.PatientAddress));
        var cookie = RecoveryJourney.SetCookie(asked, "recovery");
        Assert.That(cookie, Is.Not.Null.And.Length.EqualTo(87));
        var code = _portal.LatestSmsCode();
        var tampered = (cookie![0] == 'A' ? "B" : "A") + cookie[1..];
        foreach (var value in new string?[] { null, tampered, "garbage", cookie + "x", new string('.', 87) })
        {
            using var response = await RecoveryJourney.PostWithRecoveryCookieAsync(_portal, Page, Page + "?handler=Sms", value, ("code", code));
            Assert.That(response.Location(), Is.EqualTo(Page), value ?? "no cookie");
        }
        await using (var db = PortalDb())
        {
            Assert.That((await db.RecoveryRequests.SingleAsync()).SmsVerifiedAt, Is.Null);
        }
        foreach (var code2 in new[] { "'; DROP TABLE Accounts; --", "１２３４５６", "\u0000\u0001", new string('9', 5000) })
        {
            using var response = await PostAsync(real, "Sms", ("code", code2));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        // The real cookie still works with the right code (4 wrong attempts so far).
        using var ok = await RecoveryJourney.PostWithRecoveryCookieAsync(_portal, Page, Page + "?handler=Sms", cookie, ("code", code));
        Assert.That(ok.Location(), Is.EqualTo(Page));
        await using var after = PortalDb();
        Assert.That((await after.RecoveryRequests.SingleAsync()).SmsVerifiedAt, Is.Not.Null);
    }

    [Test]
    public async Task BackupPhone_GetsItsOwnCode_ResendWaitsItsTurn()
    {
        var (client, _) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();
        const string backupPhone = "+46709998877";
        await using (var vault = Vault())
        {
            var account = await vault.Accounts.SingleAsync(a => a.Email == PortalFactory.PatientAddress);
            account.BackupPhone = backupPhone;
            await vault.SaveChangesAsync();
        }
        using var browser = _portal.Browser();
        await AskAsync(browser, PortalFactory.PatientAddress);
        var mainCode = _portal.LatestSmsCode();
        using (var toBackup = await PostAsync(browser, "BackupPhone"))
        {
            Assert.That(toBackup.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(BrowserSteps.Text(await toBackup.Content.ReadAsStringAsync()), Does.Contain("Om kontot har en reservtelefon har vi skickat en kod till den"));
        }
        var backupCode = _portal.LatestSmsCode();
        var recipients = Directory.GetFiles(Path.Combine(_portal.Data.Path, "sms-outbox")).Select(f => File.ReadAllLines(f)[0]).ToList();
        Assert.That(recipients.Count(r => r == "To: " + backupPhone), Is.EqualTo(1));

        // A resend right away waits for its delay (nothing sent); the main phone's code no longer counts.
        using (var resend = await PostAsync(browser, "Resend"))
        {
            Assert.That(resend.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        Assert.That(_portal.SmsCount(), Is.EqualTo(3), "the account's first SMS, the main and the backup phone's codes");
        if (mainCode != backupCode)
        {
            using var old = await PostAsync(browser, "Sms", ("code", mainCode));
            Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        _portal.Time.Advance(TimeSpan.FromMinutes(1));
        using (var resend = await PostAsync(browser, "Resend"))
        {
            Assert.That(resend.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        var resent = _portal.LatestSmsCode();
        using (var sms = await PostAsync(browser, "Sms", ("code", resent)))
        {
            Assert.That(sms.Location(), Is.EqualTo(Page));
        }
        await using var db = PortalDb();
        var request = await db.RecoveryRequests.SingleAsync();
        Assert.That(request.Phone, Is.EqualTo(backupPhone));
        Assert.That(request.SmsVerifiedAt, Is.Not.Null);
    }

    [Test]
    public async Task Requests_ThrottledPerAddress_AlikeForUnknownAddresses()
    {
        var (client, _) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();
        foreach (var email in new[] { PortalFactory.PatientAddress, "nobody@nowhere.example" })
        {
            using var browser = _portal.Browser();
            for (var i = 0; i < 5; i++)
            {
                var codePage = await AskAsync(browser, email);
                using var restart = await browser.PostFormAsync(Page + "?handler=Restart", codePage);
                Assert.That(restart.Location(), Is.EqualTo(Page));
            }
            var form = await browser.PageAsync(Page);
            using var sixth = await browser.PostFormAsync(Page, form.Html, ("email", email.ToUpperInvariant()));
            Assert.That(sixth.StatusCode, Is.EqualTo((HttpStatusCode)429), email);
            Assert.That(BrowserSteps.Text(await sixth.Content.ReadAsStringAsync()), Does.Contain("För många"));
        }
        Assert.That(_portal.SmsCount(), Is.EqualTo(1 + 5), "the account's first code, then one per accepted request for the known address only");
    }

    [Test]
    public async Task WrongCodes_CountTowardsSignInThrottling()
    {
        _portal.Dispose();
        _portal = new PortalFactory(new Dictionary<string, string?> { ["SignIn:MaxFailuresPerAccountPerHour"] = "3" });
        var (client, _) = await RecoveryJourney.AccountWithMessageAsync(_portal);
        client.Dispose();
        using var browser = _portal.Browser();
        await AskAsync(browser, PortalFactory.PatientAddress);
        var code = _portal.LatestSmsCode();
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await PostAsync(browser, "Sms", ("code", WrongSmsCode(code)));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
        using (var throttled = await PostAsync(browser, "Sms", ("code", code)))
        {
            Assert.That(throttled.StatusCode, Is.EqualTo((HttpStatusCode)429));
        }
        using (var signIn = await RecipientJourney.SignInAsync(_portal.Browser(), PortalFactory.PatientAddress, RecipientJourney.Password))
        {
            Assert.That(signIn.StatusCode, Is.EqualTo((HttpStatusCode)429), "the same counter as sign-in");
        }
        await using var db = PortalDb();
        Assert.That((await db.RecoveryRequests.SingleAsync()).SmsVerifiedAt, Is.Null);
    }

    [Test]
    public async Task SignInPage_LinksToForgotPasswordAndLostAuthenticator()
    {
        using var client = _portal.Browser();
        var html = BrowserSteps.Text((await client.PageAsync("/signin")).Html);
        Assert.That(html, Does.Contain("href=\"/signin/forgot\"").And.Contain("Glömt ditt lösenord?"));
        Assert.That(html, Does.Contain("Jag har tvåfaktorsinloggning").And.Contain("href=\"/signin/lost-authenticator\""));
    }

    [Test]
    public async Task Pages_InEnglish()
    {
        using var client = _portal.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost"), HandleCookies = false });
        client.DefaultRequestHeaders.Add("Cookie", "__Host-smbx-lang=c%3Den%7Cuic%3Den");
        Assert.That(BrowserSteps.Text((await client.PageAsync("/signin")).Html), Does.Contain("Forgot your password?").And.Contain("I have two-factor sign-in").And.Contain("Lost your authenticator?"));
        Assert.That(BrowserSteps.Text((await client.PageAsync(Page)).Html), Does.Contain("Enter your e-mail address"));
        Assert.That(BrowserSteps.Text((await client.PageAsync("/signin/lost-authenticator")).Html), Does.Contain("instead of the code from the app"));
    }
}
