using System.Net;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Portal.Tests.Recipient;

/// <summary>A new recipient's whole path through the portal: link, SMS code, password, read, download, reply, claim.</summary>
[TestFixture]
public sealed class RecipientPathTests
{
    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private async Task<T> VaultAsync<T>(Func<VaultDbContext, Task<T>> query)
    {
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        return await query(db);
    }

    [Test]
    public async Task NewRecipient_LinkCodePassword_ReadsDownloadsAndReplies()
    {
        var attachment = RandomNumberGenerator.GetBytes(300_000);
        var (token, stored) = await _portal.StoreMessageAsync("Provsvar mars", attachment: attachment);
        using var client = _portal.Browser();

        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        Assert.That(BrowserSteps.Text(verify), Does.Contain("+46 70 *** ** 67"));
        var (sendStatus, sendHtml) = await RecipientJourney.SendCodeAsync(client, verify);
        Assert.That(sendStatus, Is.EqualTo(HttpStatusCode.OK));
        using var check = await RecipientJourney.CheckCodeAsync(client, sendHtml, _portal.LatestSmsCode());
        Assert.That(check.Location(), Is.EqualTo("/welcome"));
        var welcome = await client.PageAsync("/welcome");
        Assert.That(BrowserSteps.Text(welcome.Html), Does.Contain(PortalFactory.PatientAddress));
        using var created = await client.PostFormAsync("/welcome", welcome.Html, ("password", RecipientJourney.Password), ("confirm", RecipientJourney.Password));
        var messageUrl = created.Location();
        Assert.That(messageUrl, Does.StartWith("/mailbox/m/"));

        var account = await VaultAsync(db => db.Accounts.SingleAsync(a => a.Email == PortalFactory.PatientAddress));
        Assert.That(account.State, Is.EqualTo(AccountState.Active));
        Assert.That(await VaultAsync(db => db.MailboxItems.CountAsync(i => i.AccountId == account.Id && i.PendingLinkId != null)), Is.Zero);
        Assert.That(await VaultAsync(db => db.Links.Where(l => l.AccountId == account.Id).Select(l => l.WrappedKey).FirstAsync()), Is.Null, "the link key is gone");
        Assert.That(await VaultAsync(db => db.AccountKeys.CountAsync(k => k.AccountId == account.Id && k.Kind == AccountKeyKind.Password)), Is.EqualTo(1));

        var inbox = await client.PageAsync("/mailbox");
        Assert.That(BrowserSteps.Text(inbox.Html), Does.Contain("Provsvar mars"));
        Assert.That(inbox.Response.Headers.CacheControl?.NoStore, Is.True);

        var read = await client.PageAsync(messageUrl);
        Assert.That(read.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain(PortalFactory.BodySentence));
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain("provsvar å.pdf"));

        using var download = await client.GetAsync(new Uri(messageUrl + "/a/0", UriKind.Relative));
        Assert.That(download.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(download.Content.Headers.ContentDisposition?.DispositionType, Is.EqualTo("attachment"));
        Assert.That(download.Content.Headers.ContentDisposition?.FileNameStar, Is.EqualTo("provsvar å.pdf"));
        Assert.That(download.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        Assert.That(SHA256.HashData(await download.Content.ReadAsByteArrayAsync()), Is.EqualTo(SHA256.HashData(attachment)));

        var replyPage = await client.PageAsync(messageUrl + "/reply");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(BrowserSteps.Csrf(replyPage.Html)), "__csrf" },
            { new StringContent("false"), "all" },
            { new StringContent("Tack, jag kommer i mars."), "body" },
            { new ByteArrayContent([1, 2, 3, 4]), "files", "svar.bin" },
        };
        using var reply = await client.PostAsync(new Uri(messageUrl + "/reply/send", UriKind.Relative), form);
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await reply.Content.ReadAsStringAsync());
        Assert.That(reply.Location(), Is.EqualTo("/mailbox/sent?done=sent"));
        var sent = await client.PageAsync(reply.Location());
        Assert.That(BrowserSteps.Text(sent.Html), Does.Contain("Re: Provsvar mars").And.Contain("Ditt svar har skickats säkert."));
        var senderNotification = await VaultAsync(db => db.OutboundRecipients.Where(r => r.Address == PortalFactory.SenderAddress).CountAsync());
        Assert.That(senderNotification, Is.EqualTo(1), "the original sender gets a notification for the reply");
        var replyMessage = await VaultAsync(db => db.Messages.SingleAsync(m => m.InReplyToId == stored.MessageId));
        Assert.That(await VaultAsync(db => db.MailboxItems.CountAsync(i => i.MessageId == replyMessage.Id)), Is.EqualTo(2), "sender and replier");
    }

    [Test]
    public async Task ExistingAccount_LaterLink_SignsInAndClaimsTheMessage()
    {
        var (first, _) = await _portal.StoreMessageAsync("Första");
        using (var client = _portal.Browser())
        {
            await RecipientJourney.CreateAccountAsync(_portal, client, first);
        }
        // The account is active, but this message went to a pending link before (as when two were sent at once).
        var (second, result) = await _portal.StoreMessageAsync("Andra");
        var account = await VaultAsync(db => db.Accounts.SingleAsync(a => a.Email == PortalFactory.PatientAddress));
        Assert.That(result.Readers.Single(r => !r.IsSender).Link.Purpose, Is.EqualTo(LinkPurpose.SignIn), "an active account gets a sign-in link");

        // Make a pending link for the active account, as a message stored before activation has.
        var (third, pending) = await StorePendingForActiveAsync(account);
        using var other = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(other, third);
        Assert.That(BrowserSteps.Text(verify), Does.Contain("redan ett konto"));
        using var signedIn = await RecipientJourney.SignInAsync(other, PortalFactory.PatientAddress, RecipientJourney.Password, "/claim");
        Assert.That(signedIn.Location(), Does.StartWith("/mailbox/m/"));
        Assert.That(await VaultAsync(db => db.MailboxItems.CountAsync(i => i.MessageId == pending && i.AccountId == account.Id && i.PendingLinkId != null)), Is.Zero);
        var read = await other.PageAsync(signedIn.Location());
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain(PortalFactory.BodySentence));
        var inbox = await other.PageAsync("/mailbox");
        Assert.That(BrowserSteps.Text(inbox.Html), Does.Contain("Första").And.Contain("Andra").And.Contain("Tredje"));
        _ = second;
    }

    [Test]
    public async Task PendingSender_ReplyNotificationLinkWithoutANumber_NeverActivatesAlone_RegistersThenOpens()
    {
        var (token, _) = await _portal.StoreMessageAsync("Remiss");
        using var patient = _portal.Browser();
        var messageUrl = await RecipientJourney.CreateAccountAsync(_portal, patient, token);
        var replyPage = await patient.PageAsync(messageUrl + "/reply");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(BrowserSteps.Csrf(replyPage.Html)), "__csrf" },
            { new StringContent("false"), "all" },
            { new StringContent("Tack för remissen."), "body" },
        };
        using var reply = await patient.PostAsync(new Uri(messageUrl + "/reply/send", UriKind.Relative), form);
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));

        // The reply's notification to the (pending) sender carries a link; take its token from the queued mail.
        var queue = _portal.Services.GetRequiredService<OutboundQueue>();
        var queued = await VaultAsync(db => db.OutboundMessages.Where(m => m.Recipients.Any(r => r.Address == PortalFactory.SenderAddress)).SingleAsync());
        var text = await File.ReadAllTextAsync(queue.ContentPathOf(queued.ContentPath));
        var senderToken = System.Text.RegularExpressions.Regex.Match(text, @"https://portal\.test/l/([A-Za-z0-9_-]{43})").Groups[1].Value;
        using var sender = _portal.Browser();

        // The link alone: no pre-session, no password page, and the link stays unused.
        var open = await sender.PageAsync("/l/" + senderToken);
        Assert.That(BrowserSteps.Text(open.Html), Does.Contain("Skapa kontot först"));
        using var forced = await sender.PostFormAsync("/l", (await sender.PageAsync("/register")).Html, ("token", senderToken));
        Assert.That(forced.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await sender.PageAsync("/welcome")).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await VaultAsync(db => db.Accounts.SingleAsync(a => a.Email == PortalFactory.SenderAddress))).State, Is.EqualTo(AccountState.Pending));

        // Registration as anyone else: mail link, SMS code, password.
        var register = await sender.PageAsync("/register");
        using var requested = await sender.PostFormAsync("/register", register.Html, ("email", PortalFactory.SenderAddress), ("phone", "+46709876543"));
        var registrationToken = (await _portal.QueuedMailToAsync(PortalFactory.SenderAddress))
            .Select(m => System.Text.RegularExpressions.Regex.Match(m.TextBody ?? "", @"/register/c/([A-Za-z0-9_-]+)")).Single(m => m.Success).Groups[1].Value;
        var use = await sender.PageAsync("/register/c/" + registrationToken);
        using var used = await sender.PostFormAsync("/register/c", use.Html, ("token", registrationToken));
        var verify = await sender.PageAsync("/register/continue");
        using var right = await sender.PostFormAsync("/register/continue?handler=Check", verify.Html, ("code", _portal.LatestSmsCode()));
        var passwordStep = await sender.PageAsync("/register/continue");
        using var created = await sender.PostFormAsync("/register/continue?handler=Password", passwordStep.Html, ("password", "läkarens egen långa fras"), ("confirm", "läkarens egen långa fras"));
        Assert.That(created.Location(), Is.EqualTo("/mailbox"));

        // Now the link opens into the account.
        var linkVerify = await RecipientJourney.OpenLinkAsync(sender, senderToken);
        Assert.That(BrowserSteps.Text(linkVerify), Does.Contain("redan ett konto"));
        using var signedIn = await RecipientJourney.SignInAsync(sender, PortalFactory.SenderAddress, "läkarens egen långa fras", "/claim");
        var read = await sender.PageAsync(signedIn.Location());
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain("Tack för remissen.").And.Contain("Re: Remiss"));
    }

    [Test]
    public async Task ReplyAll_ParticipantWithoutNumber_IsReportedAndTheSenderStillGetsIt()
    {
        var (token, _) = await _portal.StoreMessageAsync("Möte", cc: "Kalle Kollega <kalle@elsewhere.example>");
        using var client = _portal.Browser();
        var messageUrl = await RecipientJourney.CreateAccountAsync(_portal, client, token);
        var replyPage = await client.PageAsync(messageUrl + "/reply?all=true");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(BrowserSteps.Csrf(replyPage.Html)), "__csrf" },
            { new StringContent("true"), "all" },
            { new StringContent("Jag kommer."), "body" },
        };

        using var reply = await client.PostAsync(new Uri(messageUrl + "/reply/send", UriKind.Relative), form);

        Assert.That(reply.Location(), Is.EqualTo("/mailbox/sent?done=sent&notReached=1"));
        Assert.That(BrowserSteps.Text((await client.PageAsync(reply.Location())).Html), Does.Contain("1 mottagare kunde inte nås"));
        Assert.That(await VaultAsync(db => db.OutboundRecipients.CountAsync(r => r.Address == PortalFactory.SenderAddress)), Is.EqualTo(1));
        Assert.That(await VaultAsync(db => db.OutboundRecipients.CountAsync(r => r.Address == "kalle@elsewhere.example")), Is.Zero, "never in clear");
    }

    [Test]
    public async Task ActiveAccount_SignInLink_LeadsToTheMessage()
    {
        var (first, _) = await _portal.StoreMessageAsync("Första");
        using var client = _portal.Browser();
        await RecipientJourney.CreateAccountAsync(_portal, client, first);
        var (second, result) = await _portal.StoreMessageAsync("Andra");
        var itemId = await VaultAsync(db => db.MailboxItems.Where(i => i.MessageId == result.MessageId && i.Folder == Folder.Inbox).Select(i => i.Id).SingleAsync());

        var (status, _, response) = await client.PageAsync("/l/" + second);
        var signedIn = await client.PageAsync(response.Location());
        using var stranger = _portal.Browser();
        var (_, _, strangerResponse) = await stranger.PageAsync("/l/" + second);
        var strangerPage = await stranger.PageAsync(strangerResponse.Location());

        Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Location(), Is.EqualTo("/signin?returnUrl=" + Uri.EscapeDataString($"/mailbox/m/{itemId}")));
        Assert.That(signedIn.Response.Location(), Is.EqualTo($"/mailbox/m/{itemId}"), "already signed in: straight to the message");
        Assert.That(strangerPage.Status, Is.EqualTo(HttpStatusCode.OK), "someone else only gets the sign-in form");
        Assert.That(BrowserSteps.Text(strangerPage.Html), Does.Not.Contain("Andra"));
    }

    [Test]
    public async Task ContinueWithoutSms_ForARecipientLink_IsRefused()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);

        using var proceed = await client.PostFormAsync("/verify?handler=Continue", verify);

        Assert.That(proceed.StatusCode, Is.Not.EqualTo(HttpStatusCode.Redirect), "there is no way on without the SMS code");
        Assert.That((await client.PageAsync("/welcome")).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    /// <summary>Stores a message while the account is briefly pending again, so it gets a link key (what a message sent before activation has).</summary>
    private async Task<(string Token, Guid MessageId)> StorePendingForActiveAsync(Account account)
    {
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            await db.Accounts.Where(a => a.Id == account.Id).ExecuteUpdateAsync(s => s.SetProperty(a => a.State, AccountState.Pending));
        }
        var (token, result) = await _portal.StoreMessageAsync("Tredje");
        await using (var db = await factory.CreateDbContextAsync())
        {
            await db.Accounts.Where(a => a.Id == account.Id).ExecuteUpdateAsync(s => s.SetProperty(a => a.State, AccountState.Active));
        }
        return (token, result.MessageId);
    }
}
