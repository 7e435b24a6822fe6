using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using SecureMailbox.Gateway.Tests.Support;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The secure path end to end: flagged mail through the real gateway into the vault, notifications out.</summary>
[TestFixture]
public sealed class SecureDeliveryTests : GatewayFixture
{
    private const string Subject = "Provsvar för Anna Andersson";
    private const string BodySentence = "Dina blodvärden ser bra ut och nästa kontroll är i mars.";
    private const string AttachmentName = "remiss-kardiologi.pdf";
    private const string AttachmentContent = "PDF-CONTENT-confidential-lab-values-4711";
    private const string RecipientName = "Anna Andersson";

    private static MimeMessage SecureMessage(string subject, params (string Name, string Address)[] to)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Dr Sven Läkare", "sven@org.example"));
        foreach (var (name, address) in to)
        {
            message.To.Add(new MailboxAddress(name, address));
        }
        message.Subject = subject;
        message.Date = DateTimeOffset.UtcNow;
        var body = new BodyBuilder { TextBody = $"Hej Anna,\r\n{BodySentence}\r\n" };
        body.Attachments.Add(AttachmentName, Encoding.UTF8.GetBytes(AttachmentContent), new ContentType("application", "pdf"));
        message.Body = body.ToMessageBody();
        return message;
    }

    private async Task SendAsync(MimeMessage message)
    {
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync("127.0.0.1", Gateway.Endpoint.Port, SecureSocketOptions.StartTls);
        await client.SendAsync(message);
        await client.DisconnectAsync(true);
    }

    private static string LinkToken(ReceivedMessage notification)
    {
        var text = Encoding.UTF8.GetString(notification.Data);
        var match = System.Text.RegularExpressions.Regex.Match(text, @"https://portal\.test/l/([A-Za-z0-9_-]{43})");
        Assert.That(match.Success, Is.True, "the notification holds one link to the configured portal");
        return match.Groups[1].Value;
    }

    [Test]
    public async Task SecureMessage_WithAttachment_IsStoredUnreadableAndTheRecipientGetsANeutralNotification()
    {
        var message = SecureMessage($"[secure] {Subject}", (RecipientName, "anna@patient.example"));
        message.Headers.Add("X-SecureMailbox-Phone", "anna@patient.example=070-123 45 67");

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(2, TimeSpan.FromSeconds(30));
        var notification = mail.Single(m => m.To.SequenceEqual(["anna@patient.example"]));
        var receipt = mail.Single(m => m.To.SequenceEqual(["sven@org.example"]));
        var notificationText = Encoding.UTF8.GetString(notification.Data);
        Assert.That(notificationText, Does.Not.Contain("Provsvar").And.Not.Contain(BodySentence).And.Not.Contain(AttachmentName));
        using var parsed = MimeMessage.Load(new MemoryStream(notification.Data));
        Assert.That(parsed.Body, Is.InstanceOf<MultipartAlternative>(), "text and HTML");
        Assert.That(parsed.Subject, Does.Contain("sven@org.example").And.Contain("Säkert meddelande"), "Swedish by default, names the sender");
        Assert.That(parsed.Headers[HeaderId.AutoSubmitted], Is.Null, "people read it");
        Assert.That(parsed.Headers["X-SecureMailbox-Processed"], Is.EqualTo("notification"));
        Assert.That(parsed.TextBody, Does.Not.Contain("lösenord:").And.Not.Contain("password:"));
        var token = LinkToken(notification);
        Assert.That(Encoding.UTF8.GetString(receipt.Data), Does.Contain("https://portal.test/l/"));

        // Nothing readable at rest: the database file and every vault file.
        await Task.Delay(500);
        var needles = new[] { "Provsvar", BodySentence, AttachmentName, AttachmentContent, RecipientName, token, "Dr Sven" };
        var files = Directory.EnumerateFiles(Data.Path, "securemailbox.db*").Concat(Directory.EnumerateFiles(Path.Combine(Data.Path, "vault"), "*", SearchOption.AllDirectories)).ToList();
        Assert.That(files.Count(f => f.Contains("vault", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(1));
        foreach (var file in files)
        {
            var bytes = await ReadSharedAsync(file);
            foreach (var needle in needles)
            {
                Assert.That(IndexOf(bytes, Encoding.UTF8.GetBytes(needle)), Is.EqualTo(-1), $"'{needle}' found in {Path.GetFileName(file)}");
                Assert.That(IndexOf(bytes, Encoding.Unicode.GetBytes(needle)), Is.EqualTo(-1), $"'{needle}' (UTF-16) found in {Path.GetFileName(file)}");
            }
        }

        // The link opens it: the stored message is the original, without the gateway's headers or the keyword.
        var reader = Gateway.Services.GetRequiredService<VaultReader>();
        using var link = await reader.UnlockLinkAsync(token, CancellationToken.None);
        Assert.That(link, Is.Not.Null);
        Assert.That(link!.Link.Phone, Is.EqualTo("+46701234567"), "normalised to E.164");
        var (stored, item) = await LoadAsync(link.Link);
        await using var plaintext = reader.OpenMessage(stored, item.Stanza, link.Key!);
        using var original = await MimeMessage.LoadAsync(plaintext);
        Assert.That(original.Subject, Is.EqualTo(Subject));
        Assert.That(original.Headers.Any(h => h.Field.StartsWith("X-SecureMailbox", StringComparison.OrdinalIgnoreCase)), Is.False);
        Assert.That(original.TextBody, Does.Contain(BodySentence));
        Assert.That(original.Attachments.Single().ContentDisposition!.FileName, Is.EqualTo(AttachmentName));
        var metadata = await VaultReader.ReadMetadataAsync(item.EncryptedMetadata, link.Key!, CancellationToken.None);
        Assert.That(metadata.Subject, Is.EqualTo(Subject));
        Assert.That(metadata.Attachments.Single().FileName, Is.EqualTo(AttachmentName));
        Assert.That(metadata.To, Has.Some.Contains(RecipientName));
    }

    [Test]
    public async Task SecureMessage_ExportedForAReader_DecryptsWithTheStockAgeTool()
    {
        var message = SecureMessage("[secure] Export check", ("Bo", "bo@patient.example"));
        message.Headers.Add("X-SecureMailbox-Phone", "bo@patient.example=+46 70 765 43 21");
        await SendAsync(message);
        var notification = (await NextHop.WaitForAsync(2, TimeSpan.FromSeconds(30))).Single(m => m.To.SequenceEqual(["bo@patient.example"]));
        var reader = Gateway.Services.GetRequiredService<VaultReader>();
        using var link = (await reader.UnlockLinkAsync(LinkToken(notification), CancellationToken.None))!;
        var (stored, item) = await LoadAsync(link.Link);

        var identityFile = Path.Combine(Data.Path, "identity.txt");
        var ageFile = Path.Combine(Data.Path, "message.age");
        await File.WriteAllTextAsync(identityFile, link.Key!.ToString() + "\n");
        await using (var output = File.Create(ageFile))
        {
            await reader.ExportAgeFileAsync(stored, item.Stanza, link.Key!, output, CancellationToken.None);
        }
        var (exitCode, stdout, stderr) = await RunAsync("age", "-d", "-i", identityFile, ageFile);

        Assert.That(exitCode, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("Subject: Export check").And.Contain(BodySentence.Split(' ')[0]));
    }

    [Test]
    public async Task SecureMessage_WithTheHeadersTheAddinBuilds_NotifiesEachRecipientWithTheirNumber()
    {
        // The add-in's own modules (addin/web/headers.js, seal.js) build the headers, as the task pane does: the list
        // sealed to the gateway's key, which the gateway published in its data folder.
        var gatewayKey = (await File.ReadAllTextAsync(Path.Combine(Data.Path, "addin-header.key.pub"))).Trim();
        var script = "Promise.all([import('./web/headers.js'), import('./web/seal.js')]).then(async ([h, s]) => process.stdout.write(JSON.stringify(await h.buildSecureHeaders([" +
            "{ address: 'Cecilia@Patient.example', phone: '+46701230001' }, { address: 'dag@patient.example', phone: '+358401234567' }], s.sealerFor('" + gatewayKey + "')))))";
        var (exitCode, stdout, stderr) = await RunAsync("node", ["--input-type=module", "-e", script], Path.Combine(GatewayProcess.RepositoryRoot(), "addin"));
        Assert.That(exitCode, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("X-SecureMailbox-Sealed").And.Not.Contain("patient").And.Not.Contain("X-SecureMailbox-Phone"));
        var headers = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(stdout)!;
        var message = SecureMessage("Från tillägget", ("Cecilia", "cecilia@patient.example"), ("Dag", "dag@patient.example"));
        foreach (var (name, value) in headers)
        {
            message.Headers.Add(name, value);
        }

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(3, TimeSpan.FromSeconds(30));
        var reader = Gateway.Services.GetRequiredService<VaultReader>();
        foreach (var (address, phone) in new[] { ("cecilia@patient.example", "+46701230001"), ("dag@patient.example", "+358401234567") })
        {
            var notification = mail.Single(m => m.To.SequenceEqual([address]));
            using var link = (await reader.UnlockLinkAsync(LinkToken(notification), CancellationToken.None))!;
            Assert.That(link.Link.Phone, Is.EqualTo(phone));
        }
    }

    [Test]
    public async Task SecureMessage_MixedRecipients_EachGetsWhatIsRightAndTheSenderOneBounce()
    {
        var known = await CreateActiveAccountAsync("known@partner.example");
        var message = SecureMessage("[secure] Mixed", ("Known", "known@partner.example"), ("New", "new@patient.example"), ("Nophone", "nophone@patient.example"));
        message.Headers.Add("X-SecureMailbox-Phone", "new@patient.example=+46701112233");

        await SendAsync(message);

        await NextHop.WaitForAsync(4, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var mail = NextHop.Messages.ToList();
        Assert.That(mail.Count(m => m.To.SequenceEqual(["known@partner.example"])), Is.EqualTo(1));
        Assert.That(mail.Count(m => m.To.SequenceEqual(["new@patient.example"])), Is.EqualTo(1));
        Assert.That(mail.Any(m => m.To.Contains("nophone@patient.example")), Is.False, "nothing, in clear or otherwise");
        var bounces = mail.Where(m => m.From.Length == 0).ToList();
        Assert.That(bounces, Has.Count.EqualTo(1));
        Assert.That(bounces[0].To, Is.EqualTo(new[] { "sven@org.example" }));
        var bounceText = Encoding.UTF8.GetString(bounces[0].Data);
        Assert.That(bounceText, Does.Contain("nophone@patient.example").And.Contain("X-SecureMailbox-Phone").And.Contain("Nothing was sent to them in clear"), "a sender without a chosen language reads both");
        Assert.That(bounceText, Does.Not.Contain(BodySentence));

        // The known recipient's copy is wrapped to the account's own key, not to a link key.
        var notification = mail.Single(m => m.To.SequenceEqual(["known@partner.example"]));
        var reader = Gateway.Services.GetRequiredService<VaultReader>();
        using var link = (await reader.UnlockLinkAsync(LinkToken(notification), CancellationToken.None))!;
        Assert.That(link.Link.Purpose, Is.EqualTo(LinkPurpose.SignIn));
        Assert.That(link.Key, Is.Null, "the link of an account holder unlocks nothing by itself");
        var (stored, item) = await LoadAsync(link.Link);
        await using var plaintext = reader.OpenMessage(stored, item.Stanza, known);
        using var original = await MimeMessage.LoadAsync(plaintext);
        Assert.That(original.Subject, Is.EqualTo("Mixed"));
    }

    [Test]
    public async Task SecureMessage_OnlyRecipientHasNoPhone_NothingIsStoredAndTheSenderGetsABounce()
    {
        await SendAsync(SecureMessage("[secure] Nobody reachable", ("X", "unreachable@patient.example")));

        var mail = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        mail = NextHop.Messages.ToList();
        Assert.That(mail, Has.Count.EqualTo(1));
        Assert.That(mail[0].From, Is.Empty);
        Assert.That(mail[0].To, Is.EqualTo(new[] { "sven@org.example" }));
        await using var db = await Gateway.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await db.Accounts.AnyAsync(a => a.Email == "unreachable@patient.example"), Is.False);
    }

    [Test]
    public async Task SecureMessage_InvalidOrForeignPhone_IsTreatedAsMissing()
    {
        var message = SecureMessage("[secure] Bad numbers", ("A", "letters@patient.example"), ("B", "usa@patient.example"));
        message.Headers.Add("X-SecureMailbox-Phone", "letters@patient.example=call-me-maybe");
        message.Headers.Add("X-SecureMailbox-Phone", "usa@patient.example=+1 202 555 0143");

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        mail = NextHop.Messages.ToList();
        var bounce = mail.Single();
        var text = Encoding.UTF8.GetString(bounce.Data);
        Assert.That(text, Does.Contain("letters@patient.example").And.Contain("usa@patient.example"));
        Assert.That(text, Does.Contain("not allowed"), "the US number is outside the allowed countries");
    }

    [Test]
    public void SecureMessage_FromOutsideTheOrganisation_IsRefused()
    {
        var message = SecureMessage("[secure] Spoofed", ("A", "a@patient.example"));
        message.From.Clear();
        message.From.Add(new MailboxAddress("Mallory", "mallory@evil.example"));
        message.Headers.Add("X-SecureMailbox-Phone", "a@patient.example=+46701234567");

        var exception = Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(message));

        Assert.That((int)exception!.StatusCode, Is.EqualTo(550));
        Assert.That(exception.Message, Does.Contain("organisation"));
    }

    private async Task SendAsync(MimeMessage message, string envelopeFrom)
    {
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync("127.0.0.1", Gateway.Endpoint.Port, SecureSocketOptions.StartTls);
        await client.SendAsync(message, new MailboxAddress("", envelopeFrom), message.To.Mailboxes);
        await client.DisconnectAsync(true);
    }

    [TestCase("Bank Security", "security@bank.example", TestName = "SecureMessage_HeaderFromOutsideTheOrganisation_IsRefusedAtEndOfData")]
    [TestCase("Sven Läkare", "colleague@org.example", TestName = "SecureMessage_HeaderFromAnotherOrganisationAddress_IsRefusedAtEndOfData")]
    public void SecureMessage_HeaderFromNotTheEnvelopeSender_IsRefused(string name, string address)
    {
        var message = SecureMessage("[secure] Viktigt", ("A", "a@patient.example"));
        message.From.Clear();
        message.From.Add(new MailboxAddress(name, address));
        message.Headers.Add("X-SecureMailbox-Phone", "a@patient.example=+46701234567");

        var exception = Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(message, "sven@org.example"));

        Assert.That((int)exception!.StatusCode, Is.EqualTo(550));
        Assert.That(exception.Message, Does.Contain("From address"));
    }

    [Test]
    public void SecureMessage_TwoFromHeaders_IsRefused()
    {
        var message = SecureMessage("[secure] Viktigt", ("A", "a@patient.example"));
        message.Headers.Add(HeaderId.From, "\"Bank\" <security@bank.example>");
        message.Headers.Add("X-SecureMailbox-Phone", "a@patient.example=+46701234567");

        var exception = Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(message, "sven@org.example"));

        Assert.That((int)exception!.StatusCode, Is.EqualTo(550));
    }

    [Test]
    public async Task SecureMessage_SentTwiceByASender_CountsTwoForTheMonth()
    {
        for (var i = 0; i < 2; i++)
        {
            var message = SecureMessage("[secure] Count " + i, ("C", "counted@patient.example"));
            message.From.Clear();
            message.From.Add(new MailboxAddress("Counter", "counter@org.example"));
            message.Headers.Add("X-SecureMailbox-Phone", "counted@patient.example=+46701234599");
            await SendAsync(message);
        }
        await NextHop.WaitForAsync(4, TimeSpan.FromSeconds(30));

        await using var db = await Gateway.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var sender = await db.Accounts.SingleAsync(a => a.Email == "counter@org.example");
        var count = await db.SenderMonthlyCounts.SingleAsync(c => c.AccountId == sender.Id);
        Assert.That(count.Count, Is.EqualTo(2));
        Assert.That(count.Month, Is.EqualTo(DateTime.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture)));
    }

    private async Task<(VaultMessage Message, MailboxItem Item)> LoadAsync(NotificationLink link)
    {
        await using var db = await Gateway.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var message = await db.Messages.SingleAsync(m => m.Id == link.MessageId);
        var item = await db.MailboxItems.SingleAsync(i => i.MessageId == link.MessageId && i.AccountId == link.AccountId);
        return (message, item);
    }

    private async Task<AgeIdentity> CreateActiveAccountAsync(string email)
    {
        var identity = AgeIdentity.Generate();
        await using var db = await Gateway.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var account = new Account { Email = email, State = AccountState.Active, PublicKey = identity.Recipient.ToString(), Phone = "+46709999999", CreatedAt = DateTime.UtcNow };
        db.Accounts.Add(account);
        db.AccountKeys.Add(new AccountKey
        {
            AccountId = account.Id,
            Kind = AccountKeyKind.Password,
            WrappedKey = PrivateKeyWrap.WrapWithPassword(identity, "correct horse battery staple", KeyWrapPurpose.Password, account.Id.ToString("N")),
            CreatedAt = DateTime.UtcNow,
        });
        await db.SaveChangesAsync();
        return identity;
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, params string[] arguments) => RunAsync(file, arguments, null);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, string[] arguments, string? workingDirectory)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
