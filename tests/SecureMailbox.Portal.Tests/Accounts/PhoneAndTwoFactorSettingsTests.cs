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

/// <summary>
/// Turning 2FA off, the backup phone and changing the phone number (Settings), each behind re-authentication,
/// through the real host: what the page says, what is stored, which SMS went where, events and notice mails.
/// </summary>
[TestFixture]
public sealed partial class PhoneAndTwoFactorSettingsTests
{
    private const string PhonePage = "/settings/phone";
    private const string TwoFactorPage = "/settings/two-factor";
    private const string BackupPhone = "+46707654321";
    private const string NewPhone = "+46731112233";

    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    [Test]
    public async Task Changes_WithoutRecentReauthentication_GoToConfirmAndChangeNothing()
    {
        using var client = await SignedInAsync();
        var (_, codes) = await EnableTwoFactorAsync(client);
        var smsBefore = _portal.SmsCount();
        var page = await client.PageAsync(PhonePage);
        Assert.That(page.Html, Does.Contain("/settings/confirm?returnUrl=%2Fsettings%2Fphone").And.Not.Contain("handler=AddBackup"), "the page offers re-authentication first");
        var twoFactor = await client.PageAsync(TwoFactorPage);

        using var disable = await client.PostFormAsync(TwoFactorPage + "?handler=Disable", twoFactor.Html);
        using var add = await client.PostFormAsync(PhonePage + "?handler=AddBackup", page.Html, ("number", BackupPhone));
        using var remove = await client.PostFormAsync(PhonePage + "?handler=RemoveBackup", page.Html);
        using var prove = await client.PostFormAsync(PhonePage + "?handler=ProveSms", page.Html, ("to", "main"));
        using var proveCode = await client.PostFormAsync(PhonePage + "?handler=ProveBackupCode", page.Html, ("backupCode", codes[0]));

        Assert.That(disable.Location(), Is.EqualTo("/settings/confirm?returnUrl=%2Fsettings%2Ftwo-factor"));
        foreach (var response in new[] { add, remove, prove, proveCode })
        {
            Assert.That(response.Location(), Is.EqualTo("/settings/confirm?returnUrl=%2Fsettings%2Fphone"));
        }
        Assert.That(_portal.SmsCount(), Is.EqualTo(smsBefore), "no SMS sent");
        await using var db = await PortalDbAsync();
        Assert.That(await db.TwoFactorSecrets.CountAsync(t => t.EnabledAt != null), Is.EqualTo(1), "2FA still on");
        Assert.That(await db.BackupCodes.CountAsync(), Is.EqualTo(10), "the backup code was not used");
        Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
    }

    [Test]
    public async Task Confirm_WrongPasswordOrCode_RefusedCountedAndChangesStillLocked()
    {
        using var client = await SignedInAsync();
        var (secret, _) = await EnableTwoFactorAsync(client);
        var confirm = await client.PageAsync("/settings/confirm?returnUrl=%2Fsettings%2Fphone");

        using var wrongPassword = await client.PostFormAsync("/settings/confirm", confirm.Html, ("password", "fel lösenord"), ("code", CodeNow(secret)), ("returnUrl", PhonePage));
        using var wrongCode = await client.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("code", "000000"), ("returnUrl", PhonePage));
        using var noCode = await client.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("returnUrl", PhonePage));

        Assert.That(wrongPassword.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(BrowserSteps.Text(await wrongPassword.Content.ReadAsStringAsync()), Does.Contain("Fel lösenord").IgnoreCase);
        Assert.That(wrongCode.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(noCode.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "with 2FA on the password alone is not enough");
        var page = await client.PageAsync(PhonePage);
        using var add = await client.PostFormAsync(PhonePage + "?handler=AddBackup", page.Html, ("number", BackupPhone));
        Assert.That(add.Location(), Does.StartWith("/settings/confirm"), "still not re-authenticated");
        Assert.That(await EventsAsync(), Does.Contain(SecurityEventKind.SignInFailed).And.Contain(SecurityEventKind.SecondFactorFailed).And.Not.Contain(SecurityEventKind.Reauthenticated));

        // The failures count towards the sign-in throttling: after 20 the right answer is refused too.
        for (var i = 0; i < 17; i++)
        {
            using var wrong = await client.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("code", "000000"), ("returnUrl", PhonePage));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), $"attempt {i}");
        }
        using var throttled = await client.PostFormAsync("/settings/confirm", confirm.Html, ("password", RecipientJourney.Password), ("code", CodeNow(secret)), ("returnUrl", PhonePage));
        Assert.That(throttled.StatusCode, Is.EqualTo((HttpStatusCode)429));
    }

    [Test]
    public async Task TwoFactorOff_AfterReauthentication_SignInAsksNoCodeAndCodesAndKeysAreGone()
    {
        using var client = await SignedInAsync();
        var (secret, _) = await EnableTwoFactorAsync(client);
        var notConfirmed = await client.PageAsync(TwoFactorPage);
        Assert.That(notConfirmed.Html, Does.Contain("/settings/confirm?returnUrl=%2Fsettings%2Ftwo-factor").And.Not.Contain("handler=Disable"));
        await ConfirmAsync(client, TwoFactorPage, CodeNow(secret));
        var enabled = await client.PageAsync(TwoFactorPage);
        Assert.That(enabled.Html, Does.Contain("handler=Disable"));

        using var disabled = await client.PostFormAsync(TwoFactorPage + "?handler=Disable", enabled.Html);

        Assert.That(disabled.Location(), Is.EqualTo(TwoFactorPage + "?off=true"));
        var after = await client.PageAsync(disabled.Location());
        Assert.That(BrowserSteps.Text(after.Html), Does.Contain("Tvåfaktorsinloggning är avstängd."));
        Assert.That(after.Html, Does.Contain("handler=Start"), "it can be turned on again");
        await using (var db = await PortalDbAsync())
        {
            Assert.That(await db.TwoFactorSecrets.CountAsync(), Is.Zero);
            Assert.That(await db.BackupCodes.CountAsync(), Is.Zero);
        }
        await using (var vault = await VaultDbAsync())
        {
            Assert.That(await vault.AccountKeys.CountAsync(k => k.Kind == AccountKeyKind.BackupCode), Is.Zero, "the keys the codes wrapped are gone");
            Assert.That(await vault.AccountKeys.CountAsync(k => k.Kind == AccountKeyKind.Password), Is.EqualTo(1), "the password still opens the account");
        }
        Assert.That(await EventsAsync(), Does.Contain(SecurityEventKind.TwoFactorDisabled));
        Assert.That(await NoticeTextsAsync(), Has.Some.Contains("Tvåfaktorsinloggning har stängts av"));

        using var other = _portal.Browser();
        using var signIn = await RecipientJourney.SignInAsync(other, PortalFactory.PatientAddress, RecipientJourney.Password);
        Assert.That(signIn.Location(), Is.EqualTo("/mailbox"), "no second step any more");
        Assert.That((await other.PageAsync("/mailbox")).Status, Is.EqualTo(HttpStatusCode.OK));

        using var again = await client.PostFormAsync(TwoFactorPage + "?handler=Disable", enabled.Html);
        Assert.That(again.Location(), Is.EqualTo(TwoFactorPage), "turning off what is off changes nothing");
        Assert.That((await EventsAsync()).Count(k => k == SecurityEventKind.TwoFactorDisabled), Is.EqualTo(1));
    }

    [Test]
    public async Task BackupPhone_WrongCodeRefused_RightCodeSaves_ThenRemoved()
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        var page = await client.PageAsync(PhonePage);
        Assert.That(BrowserSteps.Text(page.Html), Does.Contain("+46 70 *** ** 67").And.Contain("Reservtelefon: inget"));

        using var add = await client.PostFormAsync(PhonePage + "?handler=AddBackup", page.Html, ("number", "070-765 43 21"));
        Assert.That(add.Location(), Is.EqualTo(PhonePage));
        var code = LatestSmsCodeTo(BackupPhone);
        var codePage = await client.PageAsync(PhonePage);
        Assert.That(BrowserSteps.Text(codePage.Html), Does.Contain("till +46 70 *** ** 21"));
        using var wrong = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", code == "000000" ? "111111" : "000000"));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await wrong.Content.ReadAsStringAsync()), Does.Contain("Fel kod"));
        Assert.That(await AccountAsync(), Has.Property("BackupPhone").Null);

        using var right = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", code));
        Assert.That(right.Location(), Is.EqualTo(PhonePage + "?done=BackupPhoneSaved"));
        var saved = await client.PageAsync(right.Location());
        Assert.That(BrowserSteps.Text(saved.Html), Does.Contain("Reservtelefonen är sparad.").And.Contain("Reservtelefon: +46 70 *** ** 21"));
        Assert.That((await AccountAsync()).BackupPhone, Is.EqualTo(BackupPhone));
        Assert.That(await EventsAsync(), Does.Contain(SecurityEventKind.BackupPhoneAdded));
        Assert.That(await NoticeTextsAsync(), Has.Some.Contains("En reservtelefon har lagts till"));
        await using (var db = await PortalDbAsync())
        {
            Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero, "the finished change leaves nothing behind");
        }

        using var again = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", code));
        Assert.That(again.Location(), Is.EqualTo(PhonePage), "the code cannot be used again");

        using var remove = await client.PostFormAsync(PhonePage + "?handler=RemoveBackup", saved.Html);
        Assert.That(remove.Location(), Is.EqualTo(PhonePage + "?done=BackupPhoneRemoved"));
        Assert.That(BrowserSteps.Text((await client.PageAsync(remove.Location())).Html), Does.Contain("Reservtelefonen är borttagen.").And.Contain("Reservtelefon: inget"));
        Assert.That(await AccountAsync(), Has.Property("BackupPhone").Null);
        Assert.That(await EventsAsync(), Does.Contain(SecurityEventKind.BackupPhoneRemoved));
        Assert.That(await NoticeTextsAsync(), Has.Some.Contains("Reservtelefonen har tagits bort"));
    }

    [TestCase("call-me-maybe", "Det är inte ett giltigt mobilnummer")]
    [TestCase("07O-765 43 21x", "Det är inte ett giltigt mobilnummer")]
    [TestCase("+467076543210000000000000000000000000000000000", "Det är inte ett giltigt mobilnummer")]
    [TestCase("+46707654321\r\nBcc: x@y.example", "Det är inte ett giltigt mobilnummer")]
    [TestCase("<script>alert(1)</script>", "Det är inte ett giltigt mobilnummer")]
    [TestCase("08-123 456 78", "Det är inte ett giltigt mobilnummer")]
    [TestCase("", "Det är inte ett giltigt mobilnummer")]
    [TestCase("+1 202 555 0143", "Vi kan inte skicka SMS till nummer i det landet")]
    [TestCase("+46701234567", "ett annat nummer än ditt mobilnummer")]
    [TestCase("070-123 45 67", "ett annat nummer än ditt mobilnummer")]
    public async Task BackupPhone_HostileOrUnusableNumber_RefusedWithAClearError(string number, string error)
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        var page = await client.PageAsync(PhonePage);
        var smsBefore = _portal.SmsCount();

        using var add = await client.PostFormAsync(PhonePage + "?handler=AddBackup", page.Html, ("number", number));
        var html = await add.Content.ReadAsStringAsync();

        Assert.That(add.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(html), Does.Contain(error));
        Assert.That(html, Does.Not.Contain("<script>alert"));
        Assert.That(_portal.SmsCount(), Is.EqualTo(smsBefore), "no SMS");
        Assert.That(await AccountAsync(), Has.Property("BackupPhone").Null);
        await using var db = await PortalDbAsync();
        Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero);
    }

    [Test]
    public async Task BackupPhone_ExpiredCodeRefused_NewCodeWorks()
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        var page = await client.PageAsync(PhonePage);
        using var add = await client.PostFormAsync(PhonePage + "?handler=AddBackup", page.Html, ("number", BackupPhone));
        var oldCode = LatestSmsCodeTo(BackupPhone);
        _portal.Time.Advance(TimeSpan.FromMinutes(11));
        var codePage = await client.PageAsync(PhonePage);

        using var expired = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", oldCode));
        Assert.That(expired.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await expired.Content.ReadAsStringAsync()), Does.Contain("Koden har gått ut"));
        Assert.That(await AccountAsync(), Has.Property("BackupPhone").Null);

        using var resent = await client.PostFormAsync(PhonePage + "?handler=Resend", codePage.Html);
        Assert.That(resent.Location(), Is.EqualTo(PhonePage));
        using var fresh = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", LatestSmsCodeTo(BackupPhone)));
        Assert.That(fresh.Location(), Is.EqualTo(PhonePage + "?done=BackupPhoneSaved"));
        Assert.That((await AccountAsync()).BackupPhone, Is.EqualTo(BackupPhone));
    }

    [Test]
    public async Task BackupPhone_TooManyWrongCodes_EndTheChange()
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        var page = await client.PageAsync(PhonePage);
        using var add = await client.PostFormAsync(PhonePage + "?handler=AddBackup", page.Html, ("number", BackupPhone));
        var code = LatestSmsCodeTo(BackupPhone);
        var wrongCode = code == "000000" ? "111111" : "000000";
        var codePage = await client.PageAsync(PhonePage);
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", wrongCode));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }

        using var right = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", code));

        Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await right.Content.ReadAsStringAsync()), Does.Contain("För många felaktiga försök. Börja om."));
        Assert.That(await AccountAsync(), Has.Property("BackupPhone").Null);
        await using var db = await PortalDbAsync();
        Assert.That(await db.RecoveryRequests.CountAsync(), Is.Zero, "the change is gone");
        Assert.That(await db.SmsCodeRequests.CountAsync(r => r.UsedAt == null), Is.Zero, "and so is its code");
        Assert.That((await client.PageAsync(PhonePage)).Html, Does.Contain("handler=AddBackup"), "it starts again from the beginning");
    }

    [Test]
    public async Task PhoneChange_ProofBySmsToTheOldNumber_NewNumberVerifiedAndSaved()
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        var page = await client.PageAsync(PhonePage);
        Assert.That(page.Html, Does.Contain("handler=ProveSms").And.Not.Contain("value=\"backup\""), "no backup phone to offer");

        using var prove = await client.PostFormAsync(PhonePage + "?handler=ProveSms", page.Html, ("to", "main"));
        Assert.That(prove.Location(), Is.EqualTo(PhonePage));
        var proofCode = LatestSmsCodeTo(PortalFactory.PatientPhone);
        var proofPage = await client.PageAsync(PhonePage);
        using var early = await client.PostFormAsync(PhonePage + "?handler=NewNumber", proofPage.Html, ("number", NewPhone));
        Assert.That(early.Location(), Is.EqualTo(PhonePage), "no new number before the proof");
        Assert.That(_portal.SmsCount(), Is.EqualTo(2), "nothing sent to the new number yet");
        using var proven = await client.PostFormAsync(PhonePage + "?handler=Code", proofPage.Html, ("code", proofCode));
        Assert.That(proven.Location(), Is.EqualTo(PhonePage));

        var numberPage = await client.PageAsync(PhonePage);
        Assert.That(numberPage.Html, Does.Contain("handler=NewNumber"));
        using var letters = await client.PostFormAsync(PhonePage + "?handler=NewNumber", numberPage.Html, ("number", "ring mig"));
        using var same = await client.PostFormAsync(PhonePage + "?handler=NewNumber", numberPage.Html, ("number", "070-123 45 67"));
        using var foreign = await client.PostFormAsync(PhonePage + "?handler=NewNumber", numberPage.Html, ("number", "+1 202 555 0143"));
        Assert.That(BrowserSteps.Text(await letters.Content.ReadAsStringAsync()), Does.Contain("Det är inte ett giltigt mobilnummer"));
        Assert.That(BrowserSteps.Text(await same.Content.ReadAsStringAsync()), Does.Contain("Det är redan ditt mobilnummer."));
        Assert.That(BrowserSteps.Text(await foreign.Content.ReadAsStringAsync()), Does.Contain("Vi kan inte skicka SMS till nummer i det landet"));
        Assert.That(new[] { letters.StatusCode, same.StatusCode, foreign.StatusCode }, Has.All.EqualTo(HttpStatusCode.BadRequest));

        using var newNumber = await client.PostFormAsync(PhonePage + "?handler=NewNumber", numberPage.Html, ("number", "+46 73 111 22 33"));
        Assert.That(newNumber.Location(), Is.EqualTo(PhonePage));
        var newCode = LatestSmsCodeTo(NewPhone);
        var codePage = await client.PageAsync(PhonePage);
        Assert.That(BrowserSteps.Text(codePage.Html), Does.Contain("till +46 73 *** ** 33"));
        Assert.That((await AccountAsync()).Phone, Is.EqualTo(PortalFactory.PatientPhone), "not saved before the new number's code");
        using var saved = await client.PostFormAsync(PhonePage + "?handler=Code", codePage.Html, ("code", newCode));

        Assert.That(saved.Location(), Is.EqualTo(PhonePage + "?done=PhoneSaved"));
        Assert.That(BrowserSteps.Text((await client.PageAsync(saved.Location())).Html), Does.Contain("Ditt nya mobilnummer är sparat.").And.Contain("Mobilnummer: +46 73 *** ** 33"));
        Assert.That((await AccountAsync()).Phone, Is.EqualTo(NewPhone));
        Assert.That(await EventsAsync(), Does.Contain(SecurityEventKind.PhoneChanged));
        var notices = await _portal.QueuedMailToAsync(PortalFactory.PatientAddress);
        Assert.That(notices.Select(m => m.TextBody), Has.Some.Contains("Mobilnumret för ditt SecureMailbox-konto har bytts."));
        Assert.That(notices.Select(m => m.TextBody), Has.None.Contains(NewPhone).And.None.Contains(newCode), "the notice holds no number or code");
    }

    [Test]
    public async Task BackupPhone_ReceivesTheProofCode_AndCanBecomeTheMainNumber()
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        await AddBackupPhoneAsync(client);
        var page = await client.PageAsync(PhonePage);
        Assert.That(page.Html, Does.Contain("value=\"backup\""));

        using var prove = await client.PostFormAsync(PhonePage + "?handler=ProveSms", page.Html, ("to", "backup"));
        var proofCode = LatestSmsCodeTo(BackupPhone);
        var proofPage = await client.PageAsync(PhonePage);
        Assert.That(BrowserSteps.Text(proofPage.Html), Does.Contain("till +46 70 *** ** 21"));
        using var proven = await client.PostFormAsync(PhonePage + "?handler=Code", proofPage.Html, ("code", proofCode));
        var numberPage = await client.PageAsync(PhonePage);
        using var newNumber = await client.PostFormAsync(PhonePage + "?handler=NewNumber", numberPage.Html, ("number", BackupPhone));
        using var saved = await client.PostFormAsync(PhonePage + "?handler=Code", (await client.PageAsync(PhonePage)).Html, ("code", LatestSmsCodeTo(BackupPhone)));

        Assert.That(saved.Location(), Is.EqualTo(PhonePage + "?done=PhoneSaved"));
        var account = await AccountAsync();
        Assert.That(account.Phone, Is.EqualTo(BackupPhone));
        Assert.That(account.BackupPhone, Is.Null, "the backup phone became the main number");

        using var garbage = await client.PostFormAsync(PhonePage + "?handler=ProveSms", page.Html, ("to", "+46700000000"));
        Assert.That(garbage.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "only the account's own numbers get proof codes");
    }

    [Test]
    public async Task TwoFactorEnabling_SmsCanGoToTheBackupPhone()
    {
        using var client = await SignedInAsync();
        var start = await client.PageAsync(TwoFactorPage);
        Assert.That(start.Html, Does.Not.Contain("name=\"to\""), "no choice without a backup phone");
        using var noBackup = await client.PostFormAsync(TwoFactorPage + "?handler=Start", start.Html, ("password", RecipientJourney.Password), ("installed", "true"), ("to", "backup"));
        Assert.That(noBackup.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await noBackup.Content.ReadAsStringAsync()), Does.Contain("Kontot har inget mobilnummer för SMS-koden."));
        await ConfirmAsync(client, PhonePage);
        await AddBackupPhoneAsync(client);

        start = await client.PageAsync(TwoFactorPage);
        Assert.That(BrowserSteps.Text(start.Html), Does.Contain("Skicka koden till").And.Contain("+46 70 *** ** 67").And.Contain("Reservtelefon: +46 70 *** ** 21"));
        using var started = await client.PostFormAsync(TwoFactorPage + "?handler=Start", start.Html, ("password", RecipientJourney.Password), ("installed", "true"), ("to", "backup"));
        Assert.That(started.Location(), Is.EqualTo(TwoFactorPage));
        var code = LatestSmsCodeTo(BackupPhone);
        var sms = await client.PageAsync(TwoFactorPage);
        Assert.That(BrowserSteps.Text(sms.Html), Does.Contain("Vi har skickat en kod med SMS till +46 70 *** ** 21."));
        using var checkedSms = await client.PostFormAsync(TwoFactorPage + "?handler=Sms", sms.Html, ("code", code));
        Assert.That(checkedSms.Location(), Is.EqualTo(TwoFactorPage));
        Assert.That((await client.PageAsync(TwoFactorPage)).Html, Does.Contain("handler=Confirm"), "the backup phone's code authorised the change");
    }

    [Test]
    public async Task PhoneChange_ProofByBackupCode_CodeIsUsedUpAndRefusedTheSecondTime()
    {
        using var client = await SignedInAsync();
        var (secret, codes) = await EnableTwoFactorAsync(client);
        await ConfirmAsync(client, PhonePage, CodeNow(secret));
        var page = await client.PageAsync(PhonePage);
        var smsBefore = _portal.SmsCount();

        using var proven = await client.PostFormAsync(PhonePage + "?handler=ProveBackupCode", page.Html, ("backupCode", codes[4].ToLowerInvariant()));

        Assert.That(proven.Location(), Is.EqualTo(PhonePage));
        Assert.That(_portal.SmsCount(), Is.EqualTo(smsBefore), "no SMS to the old number needed");
        await using (var db = await PortalDbAsync())
        {
            Assert.That(await db.BackupCodes.CountAsync(), Is.EqualTo(9), "the code is used up");
        }
        await using (var vault = await VaultDbAsync())
        {
            Assert.That(await vault.AccountKeys.CountAsync(k => k.Kind == AccountKeyKind.BackupCode), Is.EqualTo(9), "and the key it wrapped is gone");
        }
        var numberPage = await client.PageAsync(PhonePage);
        Assert.That(numberPage.Html, Does.Contain("handler=NewNumber"));
        using var newNumber = await client.PostFormAsync(PhonePage + "?handler=NewNumber", numberPage.Html, ("number", NewPhone));
        using var saved = await client.PostFormAsync(PhonePage + "?handler=Code", (await client.PageAsync(PhonePage)).Html, ("code", LatestSmsCodeTo(NewPhone)));
        Assert.That(saved.Location(), Is.EqualTo(PhonePage + "?done=PhoneSaved"));
        Assert.That((await AccountAsync()).Phone, Is.EqualTo(NewPhone));

        var again = await client.PageAsync(PhonePage);
        using var used = await client.PostFormAsync(PhonePage + "?handler=ProveBackupCode", again.Html, ("backupCode", codes[4]));
        using var garbage = await client.PostFormAsync(PhonePage + "?handler=ProveBackupCode", again.Html, ("backupCode", "'; DROP TABLE x; --"));
        Assert.That(used.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await used.Content.ReadAsStringAsync()), Does.Contain("Fel eller redan använd reservkod.").And.Contain("support@securemailbox.com"));
        Assert.That(garbage.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await EventsAsync(), Does.Contain(SecurityEventKind.BackupCodeUsed).And.Contain(SecurityEventKind.SecondFactorFailed).And.Contain(SecurityEventKind.PhoneChanged));
        await using var after = await PortalDbAsync();
        Assert.That(await after.RecoveryRequests.CountAsync(), Is.Zero);
    }

    [Test]
    public async Task PhoneChange_WithoutAnyProof_PageNamesSupport_OrTheOrganisationsAdministrator()
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        var page = await client.PageAsync(PhonePage);
        Assert.That(BrowserSteps.Text(page.Html), Does.Contain("kontakta supporten på support@securemailbox.com"));
        Assert.That(BrowserSteps.Text(page.Html), Does.Not.Contain("administratör"));

        using var noProof = await client.PostFormAsync(PhonePage + "?handler=NewNumber", page.Html, ("number", NewPhone));
        using var noCode = await client.PostFormAsync(PhonePage + "?handler=Code", page.Html, ("code", "123456"));
        using var noBackupCodes = await client.PostFormAsync(PhonePage + "?handler=ProveBackupCode", page.Html, ("backupCode", "ABCDE-FGHJK"));
        Assert.That(noProof.Location(), Is.EqualTo(PhonePage));
        Assert.That(noCode.Location(), Is.EqualTo(PhonePage));
        Assert.That(noBackupCodes.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(BrowserSteps.Text(await noBackupCodes.Content.ReadAsStringAsync()), Does.Contain("support@securemailbox.com"));
        Assert.That((await AccountAsync()).Phone, Is.EqualTo(PortalFactory.PatientPhone));
        Assert.That(_portal.SmsCount(), Is.EqualTo(1), "only the account creation's SMS");

        await using (var vault = await VaultDbAsync())
        {
            var organisation = await vault.Organisations.FirstOrDefaultAsync();
            if (organisation is null)
            {
                organisation = new Organisation { Name = "Region Test" };
                vault.Organisations.Add(organisation);
                await vault.SaveChangesAsync();
            }
            await vault.Accounts.Where(a => a.Email == PortalFactory.PatientAddress).ExecuteUpdateAsync(s => s.SetProperty(a => a.OrganisationId, organisation.Id));
        }
        var organisationPage = BrowserSteps.Text((await client.PageAsync(PhonePage)).Html);
        Assert.That(organisationPage, Does.Contain("Ditt konto är via en organisation: kontakta din administratör."));
        Assert.That(organisationPage, Does.Not.Contain("support@securemailbox.com"));
    }

    [Test]
    public async Task Pages_AreLinked_AndInEnglish()
    {
        using var client = await SignedInAsync();
        var settings = await client.PageAsync("/settings");
        Assert.That(settings.Html, Does.Contain("href=\"/settings/phone\""));
        var qrHtml = await StartAndPassSmsAsync(client);
        using var confirmed = await client.PostFormAsync(TwoFactorPage + "?handler=Confirm", qrHtml, ("code", CodeNow(SecretFrom(qrHtml))));
        var codesPage = await confirmed.Content.ReadAsStringAsync();
        Assert.That(BackupPhoneLinkInWarning().IsMatch(codesPage), Is.True, "the warning after enabling links to adding a backup phone");

        using var english = await client.PostFormAsync("/settings", settings.Html, ("language", "en"));
        var phone = BrowserSteps.Text((await client.PageAsync(PhonePage)).Html);
        Assert.That(phone, Does.Contain("Mobile number: +46 70 *** ** 67").And.Contain("Backup phone: none").And.Contain("contact support at support@securemailbox.com"));
        Assert.That(BrowserSteps.Text((await client.PageAsync(TwoFactorPage)).Html), Does.Contain("Confirm it is you to make changes"));
    }

    [Test]
    public async Task Forms_RefusePostsWithoutAntiforgeryTokenOrSession()
    {
        using var client = await SignedInAsync();
        await ConfirmAsync(client, PhonePage);
        foreach (var handler in new[] { "AddBackup", "RemoveBackup", "ProveSms", "ProveBackupCode", "NewNumber", "Code", "Resend", "Cancel" })
        {
            using var response = await client.PostFormAsync(PhonePage + "?handler=" + handler, "", ("number", BackupPhone), ("to", "main"));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), handler);
        }
        using var disable = await client.PostFormAsync(TwoFactorPage + "?handler=Disable", "");
        Assert.That(disable.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(_portal.SmsCount(), Is.EqualTo(1));

        using var signedOut = _portal.Browser();
        var page = await signedOut.PageAsync(PhonePage);
        Assert.That(page.Response.Headers.Location?.OriginalString, Is.EqualTo("/signin?returnUrl=%2Fsettings%2Fphone"));
    }

    private Task<HttpClient> SignedInAsync() => AccountSecurityJourney.SignedInAsync(_portal);

    private Task<(byte[] Secret, List<string> Codes)> EnableTwoFactorAsync(HttpClient client) => AccountSecurityJourney.EnableTwoFactorAsync(_portal, client);

    /// <summary>Password (and the given second factor) on the confirmation page, which then goes back to <paramref name="returnUrl"/>.</summary>
    private static async Task ConfirmAsync(HttpClient client, string returnUrl, string? code = null)
    {
        using var confirmed = await AccountSecurityJourney.ConfirmAsync(client, returnUrl, RecipientJourney.Password, code);
        Assert.That(confirmed.Location(), Is.EqualTo(returnUrl), await confirmed.Content.ReadAsStringAsync());
    }

    private async Task AddBackupPhoneAsync(HttpClient client)
    {
        var page = await client.PageAsync(PhonePage);
        using var add = await client.PostFormAsync(PhonePage + "?handler=AddBackup", page.Html, ("number", BackupPhone));
        using var saved = await client.PostFormAsync(PhonePage + "?handler=Code", (await client.PageAsync(PhonePage)).Html, ("code", LatestSmsCodeTo(BackupPhone)));
        Assert.That(saved.Location(), Is.EqualTo(PhonePage + "?done=BackupPhoneSaved"));
    }

    private async Task<string> StartAndPassSmsAsync(HttpClient client)
    {
        var start = await client.PageAsync(TwoFactorPage);
        using var started = await client.PostFormAsync(TwoFactorPage + "?handler=Start", start.Html, ("password", RecipientJourney.Password), ("installed", "true"));
        Assert.That(started.Location(), Is.EqualTo(TwoFactorPage));
        using var checkedSms = await client.PostFormAsync(TwoFactorPage + "?handler=Sms", (await client.PageAsync(TwoFactorPage)).Html, ("code", _portal.LatestSmsCode()));
        Assert.That(checkedSms.Location(), Is.EqualTo(TwoFactorPage));
        return (await client.PageAsync(TwoFactorPage)).Html;
    }

    private static byte[] SecretFrom(string html)
    {
        var match = SecretField().Match(html);
        Assert.That(match.Success, Is.True, "the page shows the secret");
        return Base32Encoding.ToBytes(match.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal));
    }

    private string CodeNow(byte[] secret) => TotpCore.ComputeAt(secret, _portal.Time.GetUtcNow());

    /// <summary>The code of the one new SMS, which must have gone to <paramref name="phone"/>.</summary>
    private string LatestSmsCodeTo(string phone)
    {
        var code = _portal.LatestSmsCode();
        var texts = Directory.GetFiles(Path.Combine(_portal.Data.Path, "sms-outbox")).Select(File.ReadAllText).Where(t => t.Contains(code, StringComparison.Ordinal));
        Assert.That(texts, Has.Some.StartsWith($"To: {phone}\n"), $"the code went to {phone}");
        return code;
    }

    private async Task<PortalDbContext> PortalDbAsync() =>
        await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

    private async Task<VaultDbContext> VaultDbAsync() =>
        await _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();

    private async Task<Account> AccountAsync()
    {
        await using var vault = await VaultDbAsync();
        return await vault.Accounts.AsNoTracking().SingleAsync(a => a.Email == PortalFactory.PatientAddress);
    }

    private async Task<List<SecurityEventKind>> EventsAsync()
    {
        await using var db = await PortalDbAsync();
        return await db.SecurityEvents.OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync();
    }

    private async Task<List<string>> NoticeTextsAsync() => [.. (await _portal.QueuedMailToAsync(PortalFactory.PatientAddress)).Select(m => m.TextBody ?? "")];

    [GeneratedRegex("<code class=\"secret\">([A-Z2-7 ]+)</code>")]
    private static partial Regex SecretField();

    [GeneratedRegex("class=\"warning\"[^>]*>[^<]*<a[^>]*href=\"/settings/phone\"")]
    private static partial Regex BackupPhoneLinkInWarning();
}
