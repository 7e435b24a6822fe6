using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using SecureMailbox.Gateway.Tests.Support;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The gateway as a transparent relay: real SMTP in (MailKit), real SMTP out to a next hop on loopback.</summary>
[TestFixture]
public sealed class RelayTests : GatewayFixture
{
    private async Task<string> SendAsync(MimeMessage message, string? sender = null, params string[] recipients)
    {
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync(Gateway.Endpoint.Address.ToString(), Gateway.Endpoint.Port, SecureSocketOptions.StartTls);
        var response = recipients.Length == 0
            ? await client.SendAsync(message)
            : await client.SendAsync(message, sender == "" ? new MailboxAddress("", "") : MailboxAddress.Parse(sender ?? "sender@org.example"), recipients.Select(MailboxAddress.Parse));
        await client.DisconnectAsync(true);
        return response;
    }

    private static MimeMessage PlainMessage(string subject = "Quarterly report")
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Sven Sender", "sender@org.example"));
        message.To.Add(new MailboxAddress("Rita Recipient", "rita@elsewhere.example"));
        message.Subject = subject;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("org.example");
        message.Date = DateTimeOffset.UtcNow;
        var body = new BodyBuilder { TextBody = "Hej Rita,\r\nhär kommer rapporten.\r\n.leading dot line\r\n", HtmlBody = "<p>Hej Rita</p>" };
        body.Attachments.Add("report.csv", Encoding.UTF8.GetBytes("a;b\r\n1;2\r\n"));
        message.Body = body.ToMessageBody();
        return message;
    }

    [Test]
    public async Task Relay_DkimSignedMessage_ArrivesByteForByteWithOneReceivedHeaderAndVerifies()
    {
        var message = PlainMessage();
        message.Headers.Add("X-SecureMailbox-Trace", "must not leave the gateway");
        var (signer, publicKey) = CreateDkimSigner();
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
        using var original = new MemoryStream();
        var wire = FormatOptions.Default.Clone();
        wire.NewLineFormat = NewLineFormat.Dos; // what goes over SMTP
        await message.WriteToAsync(wire, original);

        var reply = await SendAsync(message);

        Assert.That(reply, Does.Contain("queued as"));
        var received = (await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20))).Single();
        var text = Encoding.UTF8.GetString(received.Data);
        Assert.That(text, Does.StartWith("Received: from "));
        Assert.That(text, Does.Not.Contain("X-SecureMailbox"));
        var expected = Encoding.UTF8.GetString(original.ToArray()).Replace("X-SecureMailbox-Trace: must not leave the gateway\r\n", "", StringComparison.Ordinal);
        Assert.That(text, Does.EndWith(expected));
        Assert.That(CountReceived(text), Is.EqualTo(1));

        using var relayed = MimeMessage.Load(new MemoryStream(received.Data));
        var verifier = new DkimVerifier(new SinglePublicKeyLocator(publicKey));
        var dkim = relayed.Headers.First(h => h.Id == HeaderId.DkimSignature);
        Assert.That(verifier.Verify(relayed, dkim), Is.True, "the DKIM signature of the relayed message verifies");
        Assert.That(received.From, Is.EqualTo("sender@org.example"));
        Assert.That(received.To, Is.EqualTo(new[] { "rita@elsewhere.example" }));
    }

    [Test]
    public async Task Relay_SeveralRecipients_KeepsTheEnvelope()
    {
        await SendAsync(PlainMessage(), "bounces@org.example", "a@one.example", "b@two.example", "c@one.example");

        var received = (await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20))).Single();
        Assert.That(received.From, Is.EqualTo("bounces@org.example"));
        Assert.That(received.To, Is.EquivalentTo(new[] { "a@one.example", "b@two.example", "c@one.example" }));
    }

    [Test]
    public async Task Relay_PermanentRefusalOfOneRecipient_DeliversTheOthersAndBouncesExactlyOnce()
    {
        await SendAsync(PlainMessage("Meeting notes"), "sender@org.example", "ok@elsewhere.example", "reject-me@elsewhere.example");

        var messages = await NextHop.WaitForAsync(2, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3)); // a second bounce would come within the retry delays
        messages = NextHop.Messages.ToList();
        var delivered = messages.Where(m => m.From == "sender@org.example").ToList();
        var bounces = messages.Where(m => m.From.Length == 0).ToList();
        Assert.That(delivered, Has.Count.EqualTo(1));
        Assert.That(delivered[0].To, Is.EqualTo(new[] { "ok@elsewhere.example" }));
        Assert.That(bounces, Has.Count.EqualTo(1), "exactly one DSN");
        Assert.That(bounces[0].To, Is.EqualTo(new[] { "sender@org.example" }));
        using var dsn = MimeMessage.Load(new MemoryStream(bounces[0].Data));
        Assert.That(dsn.Body, Is.InstanceOf<MultipartReport>());
        Assert.That(((MultipartReport)dsn.Body).ReportType, Is.EqualTo("delivery-status"));
        var status = dsn.BodyParts.OfType<MessageDeliveryStatus>().Single();
        var recipientGroup = status.StatusGroups[1];
        Assert.That(recipientGroup["Final-Recipient"], Is.EqualTo("rfc822; reject-me@elsewhere.example"));
        Assert.That(recipientGroup["Action"], Is.EqualTo("failed"));
        Assert.That(recipientGroup["Status"], Is.EqualTo("5.1.1"));
        Assert.That(dsn.Headers[BounceHeader], Is.EqualTo("bounce"));
        var text = Encoding.UTF8.GetString(bounces[0].Data);
        Assert.That(text, Does.Not.Contain("rapporten"), "the bounce carries headers only, never the content");
    }

    private const string BounceHeader = "X-SecureMailbox-Processed";

    private const string Postmaster = "postmaster@org.example";

    protected override void Configure(Dictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings["Delivery:PostmasterAddress"] = Postmaster;
    }

    [Test]
    public async Task Relay_PermanentRefusalWithNullSender_HeldForTheOperatorWithADoubleBounceToThePostmaster()
    {
        await SendAsync(PlainMessage("Auto reply"), "", "reject-all@elsewhere.example");

        var notices = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(3)); // no further notice on later passes: the item is held, not retried
        Assert.That(NextHop.Messages.Select(m => m.To.Single()), Is.EqualTo(new[] { Postmaster }), "one report, to the postmaster, none to <>");
        Assert.That(notices[0].From, Is.Empty);
        Assert.That(Encoding.UTF8.GetString(notices[0].Data), Does.Contain("held in the gateway's queue"));
        var held = (await Gateway.Queue.ListAsync(CancellationToken.None)).Single(m => m.Recipients.Any(r => r.Address == "reject-all@elsewhere.example"));
        Assert.That(held.HeldAt, Is.Not.Null, "kept, not dropped");
        Assert.That(held.Attempts, Is.EqualTo(1));
        await Gateway.Queue.DeleteAsync(held.Id, CancellationToken.None);
    }

    [Test]
    public async Task Deliver_QueueRowWhoseContentIsMissing_IsRemovedOnceWithoutDeliveryOrBounce()
    {
        var id = Gateway.Queue.NewId();
        await Gateway.Queue.EnqueueAsync(new OutboundMessage
        {
            Id = id,
            EnvelopeFrom = "sender@org.example",
            ContentPath = id + ".eml", // never written
            ContentLength = 100,
            Recipients = [new OutboundRecipient { Address = "rita@elsewhere.example" }],
        }, CancellationToken.None);

        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => Gateway.Queue.ListAsync(CancellationToken.None).Result.All(m => m.Id != id), TimeSpan.FromSeconds(10)), Is.True, "removed, not retried");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.That(NextHop.Messages, Is.Empty, "nothing sent: no delivery, no bounce, no postmaster report");
        Assert.That((await Gateway.Queue.FindAsync(id, CancellationToken.None))!.Attempts, Is.EqualTo(1), "reported once");
    }

    [Test]
    public async Task Relay_SmarthostRefusesToRelay_HeldNotBouncedToTheSender()
    {
        await SendAsync(PlainMessage("Needs AUTH at the smarthost"), "sender@org.example", "relaydenied@elsewhere.example");

        var notices = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.That(NextHop.Messages.Select(m => m.To.Single()), Is.EqualTo(new[] { Postmaster }), "the sender gets no bounce: the fault is the gateway's own configuration");
        var held = (await Gateway.Queue.ListAsync(CancellationToken.None)).Single(m => m.Recipients.Any(r => r.Address == "relaydenied@elsewhere.example"));
        Assert.That(held.HeldAt, Is.Not.Null);
        Assert.That(held.LastError, Does.Contain("smarthost refused to relay"));
        Assert.That(held.Recipients.Single().State, Is.EqualTo(RecipientState.Pending), "delivered once the operator fixed it and ran queue retry");

        NextHop.Messages.Clear();
        await Gateway.Queue.DeleteAsync(held.Id, CancellationToken.None);
        Assert.That(notices[0].From, Is.Empty);
    }

    [Test]
    public async Task Relay_NextHopAnswers451_RetriesUntilItAccepts()
    {
        NextHop.Mode = NextHopMode.TemporaryFailure;
        await SendAsync(PlainMessage("Deferred"), "sender@org.example", "later@elsewhere.example");

        OutboundMessage? queued = null;
        for (var i = 0; i < 100 && (queued is null || queued.Attempts < 2); i++)
        {
            await Task.Delay(100);
            queued = (await Gateway.Queue.ListAsync(CancellationToken.None)).SingleOrDefault();
        }
        Assert.That(queued, Is.Not.Null);
        Assert.That(queued!.Attempts, Is.GreaterThanOrEqualTo(2), "retried at least once");
        Assert.That(queued.Recipients.Single().LastResponse, Does.StartWith("451"));
        Assert.That(NextHop.Messages, Is.Empty);

        NextHop.Mode = NextHopMode.Accept;
        var received = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.That(received, Has.Count.EqualTo(1));
        Assert.That(received[0].To, Is.EqualTo(new[] { "later@elsewhere.example" }));
    }

    [Test]
    public async Task Relay_NextHopDownForAWhile_DeliversAfterItReturns()
    {
        await NextHop.StopAsync();
        try
        {
            await SendAsync(PlainMessage("While down"), "sender@org.example", "patient@elsewhere.example");
            await Task.Delay(TimeSpan.FromSeconds(3));
            var queued = (await Gateway.Queue.ListAsync(CancellationToken.None)).Single();
            Assert.That(queued.Attempts, Is.GreaterThanOrEqualTo(1));
            Assert.That(queued.LastError, Does.Contain("4.4.1"));
        }
        finally
        {
            await NextHop.StartAsync();
        }
        var received = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.That(received, Has.Count.EqualTo(1));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.That(NextHop.Messages, Has.Count.EqualTo(1), "delivered once");
    }

    [Test]
    public async Task Send_FlaggedByHeader_IsVaultedAndNeverRelayedInClear()
    {
        var message = PlainMessage("Journal");
        message.Headers.Add("X-SecureMailbox", "secure");
        message.Headers.Add("X-SecureMailbox-Phone", "rita@elsewhere.example=+46701234567");

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(2, TimeSpan.FromSeconds(20));
        Assert.That(mail, Has.Count.EqualTo(2), "a notification and the sender's receipt");
        Assert.That(mail.Select(m => Encoding.UTF8.GetString(m.Data)), Has.None.Contains("rapporten"), "the content never leaves in clear");
        Assert.That(mail.Select(m => Encoding.UTF8.GetString(m.Data)), Has.None.Contains("Journal"), "nor the subject");
    }

    [Test]
    public async Task Send_FlaggedBySubjectKeyword_IsVaultedAndNeverRelayedInClear()
    {
        var message = PlainMessage("[säker] Provsvar");
        message.Headers.Add("X-SecureMailbox-Phone", "rita@elsewhere.example=+46701234567");

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(2, TimeSpan.FromSeconds(20));
        Assert.That(mail, Has.Count.EqualTo(2));
        Assert.That(mail.Select(m => Encoding.UTF8.GetString(m.Data)), Has.None.Contains("rapporten"));
        Assert.That(mail.Select(m => Encoding.UTF8.GetString(m.Data)), Has.None.Contains("Provsvar"));
        Assert.That(Directory.GetFiles(Path.Combine(Data.Path, "spool", "new")), Is.Empty);
    }

    [Test]
    public async Task Send_OneHundredReceivedHeaders_IsRefusedAsALoop()
    {
        var message = PlainMessage("Looping");
        for (var i = 0; i < 100; i++)
        {
            message.Headers.Insert(0, new Header("Received", $"from hop{i}.example by hop{i + 1}.example; Tue, 24 Nov 2026 10:00:00 +0000"));
        }

        var exception = Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(message));

        Assert.That((int)exception!.StatusCode, Is.EqualTo(554));
        Assert.That(exception.Message, Does.Contain("loop"));
        await Task.Delay(500);
        Assert.That(NextHop.Messages, Is.Empty);
    }

    private static int CountReceived(string text) =>
        text.Split("\r\n").TakeWhile(l => l.Length > 0).Count(l => l.StartsWith("Received:", StringComparison.OrdinalIgnoreCase));

    private static (DkimSigner Signer, AsymmetricKeyParameter PublicKey) CreateDkimSigner()
    {
        using var rsa = RSA.Create(2048);
        var keyPair = DotNetUtilities.GetRsaKeyPair(rsa.ExportParameters(true));
        var signer = new DkimSigner(keyPair.Private, "org.example", "sel1")
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Simple,
        };
        return (signer, keyPair.Public);
    }

    private sealed class SinglePublicKeyLocator(AsymmetricKeyParameter key) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => key;

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) => Task.FromResult(key);
    }
}
