using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using SecureMailbox.Portal.Mailbox;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Portal.Tests.Mailbox;

/// <summary>Reading, isolation between accounts, tampering, mail HTML, trash and secure deletion, export.</summary>
[TestFixture]
public sealed partial class MailboxTests
{
    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private IDbContextFactory<VaultDbContext> Vault => _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();

    private async Task<(HttpClient Client, string MessageUrl)> SignedInRecipientAsync(string subject = "Provsvar", string? html = null, string address = PortalFactory.PatientAddress)
    {
        var (token, _) = await _portal.StoreMessageAsync(subject, html: html, recipient: address);
        var client = _portal.Browser();
        var url = await RecipientJourney.CreateAccountAsync(_portal, client, token);
        return (client, url);
    }

    [Test]
    public async Task ReadMessage_OfAnotherAccount_IsNotFoundAndLogged()
    {
        var (anna, annaUrl) = await SignedInRecipientAsync();
        var (bo, _) = await SignedInRecipientAsync("Till Bo", address: "bo@patient.example");

        var (status, html, _) = await bo.PageAsync(annaUrl);
        using var attachment = await bo.GetAsync(new Uri(annaUrl + "/a/0", UriKind.Relative));
        using var delete = await bo.PostFormAsync(annaUrl + "?handler=Delete", (await bo.PageAsync("/mailbox")).Html);

        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(BrowserSteps.Text(html), Does.Not.Contain(PortalFactory.BodySentence));
        Assert.That(attachment.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(_portal.Logs.Lines.Count(l => l.Contains("of another account", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(2));
        Assert.That((await anna.PageAsync(annaUrl)).Status, Is.EqualTo(HttpStatusCode.OK), "still there for its reader");
        anna.Dispose();
        bo.Dispose();
    }

    [Test]
    public async Task ForwardedMessage_DownloadsAsTheMessageItWas()
    {
        var forwarded = new MimeMessage();
        forwarded.From.Add(new MailboxAddress("Labbet", "lab@org.example"));
        forwarded.To.Add(new MailboxAddress("Sven", PortalFactory.SenderAddress));
        forwarded.Subject = "Vidarebefordrat provsvar";
        forwarded.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "Originalet från labbet: Hb 142 g/L.\r\n" },
            new MimePart("application", "pdf") { FileName = "svar.pdf", Content = new MimeContent(new MemoryStream(new byte[] { 0x25, 0x50, 0x44, 0x46, 1, 2, 3 })) },
        };
        await using var expected = new MemoryStream();
        await forwarded.WriteToAsync(expected);
        var (token, _) = await _portal.StoreMessageAsync("Se bifogat", forwarded: forwarded);
        var client = _portal.Browser();
        var url = await RecipientJourney.CreateAccountAsync(_portal, client, token);

        var page = await client.PageAsync(url);
        using var download = await client.GetAsync(new Uri(url + "/a/0", UriKind.Relative));
        var bytes = await download.Content.ReadAsByteArrayAsync();

        Assert.That(BrowserSteps.Text(page.Html), Does.Contain("message.eml"));
        Assert.That(download.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(download.Content.Headers.ContentDisposition?.FileName?.Trim('"'), Is.EqualTo("message.eml"));
        Assert.That(bytes, Is.EqualTo(expected.ToArray()), "byte for byte the message that was forwarded");
        using var parsed = await MimeMessage.LoadAsync(new MemoryStream(bytes));
        Assert.That(parsed.Subject, Is.EqualTo("Vidarebefordrat provsvar"));
        Assert.That(parsed.Attachments.OfType<MimePart>().Single().FileName, Is.EqualTo("svar.pdf"));
        client.Dispose();
    }

    [Test]
    public async Task ReadMessage_TamperedPayload_ShowsTheErrorPageAndNoContent()
    {
        var (client, url) = await SignedInRecipientAsync();
        await using (var db = await Vault.CreateDbContextAsync())
        {
            var message = await db.Messages.SingleAsync();
            var path = ((FolderBlobStore)_portal.Services.GetRequiredService<IBlobStore>()).PathOf(message.Region, message.BlobName);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[bytes.Length / 2] ^= 0x01;
            await File.WriteAllBytesAsync(path, bytes);
        }

        var (status, html, _) = await client.PageAsync(url);
        using var download = await client.GetAsync(new Uri(url + "/a/0", UriKind.Relative));

        Assert.That(status, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(BrowserSteps.Text(html), Does.Contain("Något gick fel").And.Not.Contain("Hej Anna").And.Not.Contain(PortalFactory.BodySentence));
        Assert.That(download.StatusCode, Is.Not.EqualTo(HttpStatusCode.OK));
        client.Dispose();
    }

    [Test]
    public async Task ReadMessage_TamperedStanza_ShowsTheErrorPage()
    {
        var (client, url) = await SignedInRecipientAsync();
        var itemId = Guid.Parse(url[(url.LastIndexOf('/') + 1)..]);
        await using (var db = await Vault.CreateDbContextAsync())
        {
            var item = await db.MailboxItems.SingleAsync(i => i.Id == itemId);
            var chars = item.Stanza.ToCharArray();
            var at = "-> X25519 ".Length + 5; // inside the ephemeral share
            chars[at] = chars[at] == 'A' ? 'B' : 'A';
            item.Stanza = new string(chars);
            await db.SaveChangesAsync();
        }

        var (status, html, _) = await client.PageAsync(url);

        Assert.That(status, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(BrowserSteps.Text(html), Does.Not.Contain(PortalFactory.BodySentence));
        client.Dispose();
    }

    [Test]
    public async Task ReadMessage_HostileHtml_IsSanitisedIntoASandboxedFrame()
    {
        const string html = "<p>Hej <b>Anna</b></p><script>alert(1)</script><img src=\"https://tracker.example/p.gif\" onerror=\"alert(2)\">" +
            "<link rel=\"dns-prefetch\" href=\"//leak.example\"><meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\"><base href=\"https://evil.example/\">" +
            "<form action=\"https://evil.example\"><input name=\"password\"></form><a href=\"https://phish.example\">klicka</a>";
        var (client, url) = await SignedInRecipientAsync(html: html);

        var (status, page, response) = await client.PageAsync(url);
        var srcdoc = WebUtility.HtmlDecode(SrcDoc().Match(page).Groups[1].Value);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(page, Does.Contain("<iframe class=\"body\"").And.Contain("sandbox=\"\""));
        Assert.That(srcdoc, Does.Contain("<b>Anna</b>").And.Contain("default-src 'none'"));
        foreach (var bad in new[] { "<script", "onerror", "tracker.example", "dns-prefetch", "leak.example", "refresh", "<base", "<form", "<input", "phish.example" })
        {
            Assert.That(srcdoc, Does.Not.Contain(bad), bad);
        }
        Assert.That(string.Join(";", response.Headers.GetValues("Content-Security-Policy")), Does.Contain("default-src 'self'").And.Contain("frame-ancestors 'none'"));

        var (_, withImages, imageResponse) = await client.PageAsync(url + "?images=1");
        var imageDoc = WebUtility.HtmlDecode(SrcDoc().Match(withImages).Groups[1].Value);
        Assert.That(imageDoc, Does.Contain("https://tracker.example/p.gif").And.Not.Contain("onerror"));
        Assert.That(string.Join(";", imageResponse.Headers.GetValues("Content-Security-Policy")), Does.Contain("img-src 'self' https:"));
        client.Dispose();
    }

    [Test]
    public async Task Trash_DeleteThenEmpty_DestroysTheReadersKeyAndFinallyThePayload()
    {
        var (client, url) = await SignedInRecipientAsync("Att radera");
        var itemId = Guid.Parse(url[(url.LastIndexOf('/') + 1)..]);
        VaultMessage message;
        await using (var db = await Vault.CreateDbContextAsync())
        {
            message = await db.Messages.SingleAsync();
        }
        var blobPath = ((FolderBlobStore)_portal.Services.GetRequiredService<IBlobStore>()).PathOf(message.Region, message.BlobName);
        var page = await client.PageAsync(url);

        using var deleted = await client.PostFormAsync(url + "?handler=Delete", page.Html);
        var trash = await client.PageAsync("/mailbox/trash");
        var inbox = await client.PageAsync("/mailbox");
        using var unconfirmed = await client.PostFormAsync("/mailbox/trash?handler=Empty", trash.Html);
        await using (var db = await Vault.CreateDbContextAsync())
        {
            Assert.That(await db.MailboxItems.AnyAsync(i => i.Id == itemId), Is.True, "nothing is destroyed before the reader confirms");
        }
        var confirm = await client.PageAsync(unconfirmed.Location());
        using var emptied = await client.PostFormAsync("/mailbox/trash?handler=Empty", confirm.Html, ("confirmed", "true"));
        var done = await client.PageAsync(emptied.Location());

        Assert.That(deleted.Location(), Is.EqualTo("/mailbox?done=deleted"));
        Assert.That(unconfirmed.Location(), Is.EqualTo("/mailbox/trash?confirm=empty"));
        Assert.That(BrowserSteps.Text(confirm.Html), Does.Contain("Radera meddelandet i papperskorgen för gott?").And.Contain("Ja, töm papperskorgen"));
        Assert.That(BrowserSteps.Text(trash.Html), Does.Contain("Att radera"));
        Assert.That(BrowserSteps.Text(inbox.Html), Does.Not.Contain("Att radera"));
        Assert.That(emptied.Location(), Is.EqualTo("/mailbox/trash?done=emptied"));
        Assert.That(BrowserSteps.Text(done.Html), Does.Contain("Papperskorgen tömdes."));
        await using (var db = await Vault.CreateDbContextAsync())
        {
            Assert.That(await db.MailboxItems.AnyAsync(i => i.Id == itemId), Is.False, "the reader's stanza and metadata are gone");
            Assert.That(await db.Messages.AnyAsync(m => m.Id == message.Id), Is.True, "the sender still has it");
        }
        Assert.That(File.Exists(blobPath), Is.True);
        Assert.That((await client.PageAsync(url)).Status, Is.EqualTo(HttpStatusCode.NotFound));

        // The last reader (the sender) deletes it too: the payload is overwritten and removed.
        var trashService = _portal.Services.GetRequiredService<TrashService>();
        await using (var db = await Vault.CreateDbContextAsync())
        {
            var senderItem = await db.MailboxItems.SingleAsync(i => i.MessageId == message.Id);
            await trashService.MoveToTrashAsync(senderItem.AccountId, senderItem.Id, CancellationToken.None);
            await trashService.EmptyAsync(senderItem.AccountId, CancellationToken.None);
        }
        await using (var db = await Vault.CreateDbContextAsync())
        {
            Assert.That(await db.Messages.AnyAsync(m => m.Id == message.Id), Is.False);
            Assert.That(await db.Links.AnyAsync(l => l.MessageId == message.Id), Is.False);
        }
        Assert.That(File.Exists(blobPath), Is.False);
        client.Dispose();
    }

    [Test]
    public async Task Trash_Empty_LeavesNoCopyOfTheStanzaOrMetadataInTheDatabaseOrItsLog()
    {
        var (client, url) = await SignedInRecipientAsync("Att radera för gott");
        var itemId = Guid.Parse(url[(url.LastIndexOf('/') + 1)..]);
        MailboxItem item;
        await using (var db = await Vault.CreateDbContextAsync())
        {
            item = await db.MailboxItems.AsNoTracking().SingleAsync(i => i.Id == itemId);
        }
        // The stanza's last line is the wrapped file key; any 32 bytes of the encrypted metadata identify it.
        var wrappedKey = System.Text.Encoding.ASCII.GetBytes(item.Stanza.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        var metadata = item.EncryptedMetadata.AsSpan(item.EncryptedMetadata.Length / 2, 32).ToArray();
        Assert.That(Occurrences(wrappedKey), Is.Not.Empty, "the scan finds the stanza while it exists");
        var page = await client.PageAsync(url);
        using var deleted = await client.PostFormAsync(url + "?handler=Delete", page.Html);
        var trash = await client.PageAsync("/mailbox/trash");

        using var emptied = await client.PostFormAsync("/mailbox/trash?handler=Empty", trash.Html, ("confirmed", "true"));

        Assert.That(emptied.Location(), Is.EqualTo("/mailbox/trash?done=emptied"));
        Assert.That(Occurrences(wrappedKey), Is.Empty, "the wrapped file key");
        Assert.That(Occurrences(metadata), Is.Empty, "the encrypted metadata");
        client.Dispose();
    }

    /// <summary>The vault database files (database, write-ahead log) holding <paramref name="needle"/>, read as a copy would be.</summary>
    private List<string> Occurrences(byte[] needle)
    {
        var found = new List<string>();
        foreach (var file in Directory.GetFiles(_portal.Data.Path, "securemailbox.db*"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            if (bytes.AsSpan().IndexOf(needle) >= 0)
            {
                found.Add(Path.GetFileName(file));
            }
        }
        return found;
    }

    [Test]
    public async Task ReadMessage_DisplayNameOfSomeoneElse_ShowsTheSendersVerifiedAddressBesideIt()
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Bank Security", "security@bank.example"));
        message.To.Add(new MailboxAddress("Anna", PortalFactory.PatientAddress));
        message.Subject = "Ditt konto";
        message.Body = new TextPart("plain") { Text = "Hej" };
        var metadata = new MessageMetadata { Subject = "Ditt konto", FromName = "Bank Security", FromAddress = "security@bank.example", To = [PortalFactory.PatientAddress] };
        var writer = _portal.Services.GetRequiredService<VaultWriter>();
        var result = await writer.StoreAsync(Guid.NewGuid(), PortalFactory.SenderAddress, [new RecipientRequest(PortalFactory.PatientAddress, PortalFactory.PatientPhone)], metadata,
            (stream, ct) => message.WriteToAsync(stream, ct), null, CancellationToken.None);
        using var client = _portal.Browser();
        var url = await RecipientJourney.CreateAccountAsync(_portal, client, result.Readers.Single(r => !r.IsSender).Token);

        static string Visible(string html) => Regex.Replace(WebUtility.HtmlDecode(Regex.Replace(html, "<[^>]*>", "")), @"\s+", " ");
        var read = Visible((await client.PageAsync(url)).Html);
        var inbox = Visible((await client.PageAsync("/mailbox")).Html);

        Assert.That(read, Does.Contain($"Bank Security <{PortalFactory.SenderAddress}>"));
        Assert.That(read, Does.Not.Contain("security@bank.example"), "the read page shows the address the message came from");
        Assert.That(inbox, Does.Contain("<security@bank.example>").Or.Contain(PortalFactory.SenderAddress), "the list shows an address beside the name");
    }

    /// <summary>Stores raw MIME as the gateway would and returns the recipient's signed-in client and the message URL.</summary>
    private async Task<(HttpClient Client, string Url)> ReadRawAsync(string subject, string mime)
    {
        var metadata = new MessageMetadata { Subject = subject, FromName = "Dr Sven Läkare", FromAddress = PortalFactory.SenderAddress, To = [PortalFactory.PatientAddress] };
        var writer = _portal.Services.GetRequiredService<VaultWriter>();
        var bytes = System.Text.Encoding.UTF8.GetBytes(mime.ReplaceLineEndings("\r\n"));
        var result = await writer.StoreAsync(Guid.NewGuid(), PortalFactory.SenderAddress, [new RecipientRequest(PortalFactory.PatientAddress, PortalFactory.PatientPhone)], metadata,
            (stream, ct) => stream.WriteAsync(bytes, ct).AsTask(), null, CancellationToken.None);
        var client = _portal.Browser();
        var url = await RecipientJourney.CreateAccountAsync(_portal, client, result.Readers.Single(r => !r.IsSender).Token);
        return (client, url);
    }

    [TestCase("utf-7", "+AOQ-ndring av tid", "ndring av tid", TestName = "ReadMessage_Utf7Charset_IsShownNotAServerError")]
    [TestCase("x-unknown-charset", "Hej Anna", "Hej Anna", TestName = "ReadMessage_UnknownCharset_FallsBackAndIsShown")]
    [TestCase("windows-1252", "V\u00e4lkommen", "Välkommen", TestName = "ReadMessage_Windows1252_IsDecoded")]
    public async Task ReadMessage_Charset_IsShown(string charset, string body, string expected)
    {
        var raw = body.Any(c => c > 127) ? System.Text.Encoding.Latin1.GetString(System.Text.Encoding.Latin1.GetBytes(body)) : body;
        var mime = $"From: sven@org.example\nTo: anna@patient.example\nSubject: Teckenkodning\nMIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: quoted-printable\n\n"
            + (body.Any(c => c > 127) ? "V=E4lkommen" : raw) + "\n";
        var (client, url) = await ReadRawAsync("Teckenkodning", mime);

        var (status, html, _) = await client.PageAsync(url);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(WebUtility.HtmlDecode(html), Does.Contain(expected));
        client.Dispose();
    }

    [Test]
    public async Task ReadMessage_TextPartAfterTheHtmlPart_IsShownToo()
    {
        const string mime = """
            From: sven@org.example
            To: anna@patient.example
            Subject: Delar
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b1"

            --b1
            Content-Type: text/html; charset=utf-8

            <p>Första delen</p>
            --b1
            Content-Type: text/plain; charset=utf-8

            Andra delen, efter HTML.
            --b1
            Content-Type: text/plain; charset=utf-8

            Tredje delen.
            --b1--

            """;
        var (client, url) = await ReadRawAsync("Delar", mime);

        var (status, html, _) = await client.PageAsync(url);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        var text = WebUtility.HtmlDecode(html);
        Assert.That(text, Does.Contain("Första delen"));
        Assert.That(text.IndexOf("Andra delen, efter HTML.", StringComparison.Ordinal), Is.GreaterThan(0).And.LessThan(text.IndexOf("Tredje delen.", StringComparison.Ordinal)), "in message order");
        client.Dispose();
    }

    [Test]
    public async Task FormToken_FromAnEarlierSession_IsRefusedInTheNextOne()
    {
        var (client, url) = await SignedInRecipientAsync("Formulär");
        var earlier = await client.PageAsync(url);
        using var signedOut = await client.PostFormAsync("/signout", earlier.Html);
        Assert.That(signedOut.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), "signed out with this session's token");
        using var again = await RecipientJourney.SignInAsync(client, PortalFactory.PatientAddress, RecipientJourney.Password);
        Assert.That(again.Location(), Is.EqualTo("/mailbox"), "a new session in the same browser");

        using var stale = await client.PostFormAsync(url + "?handler=MarkUnread", earlier.Html);
        var current = await client.PageAsync(url);
        using var fresh = await client.PostFormAsync(url + "?handler=MarkUnread", current.Html);

        Assert.That(stale.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "the earlier session's token");
        Assert.That(fresh.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), "this session's token");
        client.Dispose();
    }

    [Test]
    public async Task Trash_Restore_PutsTheMessageBack()
    {
        var (client, url) = await SignedInRecipientAsync("Tillbaka");
        using var deleted = await client.PostFormAsync(url + "?handler=Delete", (await client.PageAsync(url)).Html);
        using var restored = await client.PostFormAsync(url + "?handler=Restore", (await client.PageAsync(url)).Html);

        Assert.That(restored.Location(), Is.EqualTo("/mailbox/trash?done=restored"));
        Assert.That(BrowserSteps.Text((await client.PageAsync("/mailbox")).Html), Does.Contain("Tillbaka"));
        client.Dispose();
    }

    [Test]
    public async Task Mailbox_OpeningChangesNothing_ThePostMarksReadAndUnread()
    {
        var (client, url) = await SignedInRecipientAsync("Oläst");
        var (_, second) = await _portal.StoreMessageAsync("Nytt meddelande");
        _ = second;
        Assert.That(Regex.Count((await client.PageAsync("/mailbox")).Html, "class=\"unread\""), Is.EqualTo(2), "neither has been marked read");

        var page = await client.PageAsync(url);
        Assert.That(Regex.Count((await client.PageAsync("/mailbox")).Html, "class=\"unread\""), Is.EqualTo(2), "a GET changes no state (A14)");
        Assert.That(page.Html, Does.Contain("src=\"/js/read.js\"").And.Contain("id=\"mark-read\""));

        using var read = await client.PostFormAsync(url + "?handler=MarkRead", page.Html);
        Assert.That(read.Location(), Is.EqualTo(url));
        var after = await client.PageAsync(url);
        Assert.That(Regex.Count((await client.PageAsync("/mailbox")).Html, "class=\"unread\""), Is.EqualTo(1));
        Assert.That(after.Html, Does.Not.Contain("read.js").And.Contain("handler=MarkUnread"));

        using var unread = await client.PostFormAsync(url + "?handler=MarkUnread", after.Html);
        Assert.That(unread.Location(), Is.EqualTo("/mailbox?done=unread"));
        Assert.That(Regex.Count((await client.PageAsync("/mailbox")).Html, "class=\"unread\""), Is.EqualTo(2));
        var script = await client.GetAsync(new Uri("/js/read.js", UriKind.Relative));
        Assert.That(script.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        client.Dispose();
    }

    [Test]
    public async Task MarkRead_AnotherAccountsItem_IsNotFound()
    {
        var (anna, annaUrl) = await SignedInRecipientAsync();
        var (bo, boUrl) = await SignedInRecipientAsync("Till Bo", address: "bo@patient.example");
        var boPage = await bo.PageAsync(boUrl);

        using var foreign = await bo.PostFormAsync(annaUrl + "?handler=MarkRead", boPage.Html);

        Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        anna.Dispose();
        bo.Dispose();
    }

    [Test]
    public async Task Mailbox_AnItemTheKeyDoesNotOpen_IsListedAsLocked_AndTheRestStillShows()
    {
        var (client, url) = await SignedInRecipientAsync("Läsbart");
        var (_, stored) = await _portal.StoreMessageAsync("Till fel nyckel");
        var accountId = await VaultValueAsync(db => db.Accounts.Where(a => a.Email == PortalFactory.PatientAddress).Select(a => a.Id).SingleAsync());
        // As if stored to the old key while a password reset replaced it: metadata for a key this account lacks.
        using var stranger = SecureMailbox.Vault.Crypto.AgeIdentity.Generate();
        var foreignMetadata = await VaultWriter.EncryptToAsync(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new MessageMetadata { Subject = "Hemligt ämne" }), stranger.Recipient, CancellationToken.None);
        await using (var db = await Vault.CreateDbContextAsync())
        {
            await db.MailboxItems.Where(i => i.MessageId == stored.MessageId && i.AccountId == accountId)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.EncryptedMetadata, foreignMetadata));
        }

        var inbox = await client.PageAsync("/mailbox");

        Assert.That(inbox.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(inbox.Html), Does.Contain("Läsbart").And.Contain(PortalFactory.SenderAddress).And.Not.Contain("Hemligt ämne"));
        Assert.That(await VaultValueAsync(db => db.MailboxItems.CountAsync(i => i.MessageId == stored.MessageId && i.AccountId == accountId && i.LockedAt != null)), Is.EqualTo(1));
        Assert.That((await client.PageAsync(url)).Status, Is.EqualTo(HttpStatusCode.OK));
        client.Dispose();
    }

    private async Task<T> VaultValueAsync<T>(Func<VaultDbContext, Task<T>> query)
    {
        await using var db = await Vault.CreateDbContextAsync();
        return await query(db);
    }

    [Test]
    public async Task Export_AfterReauthentication_ZipOpensWithTheAgeTool()
    {
        var (client, _) = await SignedInRecipientAsync("Exporteras");
        var first = await client.PageAsync("/export");
        using var early = await client.PostFormAsync("/export", (await client.PageAsync("/settings")).Html);
        Assert.That(first.Response.Location(), Is.EqualTo("/settings/confirm?returnUrl=%2Fexport"));
        Assert.That(early.Location(), Does.StartWith("/settings/confirm"), "no zip without confirming it's you");

        using var wrong = await AccountSecurityJourney.ConfirmAsync(client, "/export", "fel lösenord här");
        using var right = await AccountSecurityJourney.ConfirmAsync(client, "/export", RecipientJourney.Password);
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(right.Location(), Is.EqualTo("/export"));
        var page = await client.PageAsync("/export");
        using var zip = await client.PostFormAsync("/export", page.Html);

        Assert.That(zip.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(zip.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/zip"));
        var folder = Path.Combine(_portal.Data.Path, "export");
        await using (var stream = await zip.Content.ReadAsStreamAsync())
        {
            await ZipFile.ExtractToDirectoryAsync(stream, folder);
        }
        var identity = await File.ReadAllTextAsync(Path.Combine(folder, "identity.txt"));
        Assert.That(identity, Does.Contain("AGE-SECRET-KEY-1").And.Contain("WARNING"));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(folder, "README.txt")), Does.Contain("age -d -i identity.txt message.age > message.eml"));
        var ageFile = Directory.GetFiles(Path.Combine(folder, "inbox"), "*.age").Single();

        using var age = Process.Start(new ProcessStartInfo("age", ["-d", "-i", "identity.txt", Path.GetRelativePath(folder, ageFile)])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var eml = await age.StandardOutput.ReadToEndAsync();
        await age.WaitForExitAsync();

        Assert.That(age.ExitCode, Is.Zero, await age.StandardError.ReadToEndAsync());
        Assert.That(eml, Does.Contain("Subject: Exporteras"));
        client.Dispose();
    }

    [GeneratedRegex("srcdoc=\"([^\"]*)\"")]
    private static partial Regex SrcDoc();
}
