using System.Net;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using SecureMailbox.Gateway.Tests.Support;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Tests;

/// <summary>
/// Delivery:Mode=Mx against a DNS responder on loopback (RFC 5321 §5.1): MX preference, fall-through, the implicit MX,
/// null MX and NXDOMAIN (one bounce each), and a DNS server that does not answer (stays queued).
/// Next hop "primary" listens on 127.0.0.3 and "backup" on 127.0.0.1, on the same port (Delivery:MxPort).
/// </summary>
[TestFixture]
public sealed class MxDeliveryTests
{
    private TempDirectory _data = null!;
    private NextHopServer _backup = null!;
    private NextHopServer _primary = null!;
    private DnsResponder _dns = null!;
    private TestGateway _gateway = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _data = new TempDirectory();
        _backup = new NextHopServer();
        await _backup.StartAsync();
        _primary = new NextHopServer(IPAddress.Parse("127.0.0.3"), _backup.Port);
        await _primary.StartAsync();
        _dns = new DnsResponder();
        var loopback = new[] { IPAddress.Loopback };
        // The sender's domain, for bounces.
        _dns.MailExchangers["org.example"] = [(10, "mx.org.example")];
        _dns.Addresses["mx.org.example"] = loopback;
        // Listed backup first: the resolver must order by preference, not by answer order.
        _dns.MailExchangers["pref.example"] = [(20, "backup.pref.example"), (10, "primary.pref.example")];
        _dns.Addresses["backup.pref.example"] = loopback;
        _dns.Addresses["primary.pref.example"] = [IPAddress.Parse("127.0.0.3")];
        // Nothing listens on 127.0.0.2: the first MX fails to connect and the second is tried.
        _dns.MailExchangers["fallthrough.example"] = [(10, "dead.fallthrough.example"), (20, "alive.fallthrough.example")];
        _dns.Addresses["dead.fallthrough.example"] = [IPAddress.Parse("127.0.0.2")];
        _dns.Addresses["alive.fallthrough.example"] = loopback;
        _dns.Addresses["implicit.example"] = loopback;
        _dns.MailExchangers["nullmx.example"] = [(0, ".")];
        _dns.Silent["silent.example"] = true;

        var settings = TestGateway.DefaultSettings(_data.Path, 25);
        settings["Delivery:Mode"] = "Mx";
        settings.Remove("Delivery:SmarthostHost");
        settings["Delivery:DnsServers:0"] = $"127.0.0.1:{_dns.Port}";
        settings["Delivery:MxPort"] = _backup.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _gateway = await TestGateway.StartAsync(_data.Path, settings);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        await _primary.DisposeAsync();
        await _backup.DisposeAsync();
        _dns.Dispose();
        _data.Dispose();
    }

    private async Task SendAsync(string recipient, string subject) => await SendAsync([recipient], subject);

    private async Task SendAsync(string[] recipients, string subject)
    {
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync(_gateway.Endpoint.Address.ToString(), _gateway.Endpoint.Port, SecureSocketOptions.StartTls);
        await client.SendAsync(RawSmtpTransaction.Message(subject), MailboxAddress.Parse("sender@org.example"), recipients.Select(MailboxAddress.Parse));
        await client.DisconnectAsync(true);
    }

    private static List<ReceivedMessage> About(NextHopServer server, string subject) =>
        server.Messages.Where(m => Encoding.UTF8.GetString(m.Data).Contains($"Subject: {subject}\r\n", StringComparison.Ordinal)).ToList();

    private static async Task<List<ReceivedMessage>> SettledAsync(NextHopServer server, string subject, int expected)
    {
        await RawSmtpTransaction.EventuallyAsync(() => About(server, subject).Count >= expected, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        return About(server, subject);
    }

    [Test]
    public async Task Deliver_TwoMxHosts_UsesTheLowestPreferenceFirst()
    {
        await SendAsync("rita@pref.example", "by preference");

        var delivered = await SettledAsync(_primary, "by preference", 1);

        Assert.That(delivered, Has.Count.EqualTo(1));
        Assert.That(delivered[0].To, Is.EqualTo(new[] { "rita@pref.example" }));
        Assert.That(About(_backup, "by preference"), Is.Empty, "the backup MX was not needed");
    }

    [Test]
    public async Task Deliver_FirstMxUnreachable_FallsThroughToTheSecond()
    {
        await SendAsync("rita@fallthrough.example", "falls through");

        var delivered = await SettledAsync(_backup, "falls through", 1);

        Assert.That(delivered, Has.Count.EqualTo(1));
        Assert.That(delivered[0].To, Is.EqualTo(new[] { "rita@fallthrough.example" }));
    }

    [Test]
    public async Task Deliver_DomainWithoutMx_UsesItsAddressAsTheImplicitMx()
    {
        await SendAsync("rita@implicit.example", "implicit mx");

        var delivered = await SettledAsync(_backup, "implicit mx", 1);

        Assert.That(delivered, Has.Count.EqualTo(1));
        Assert.That(_dns.Queries, Has.Member("implicit.example/15"), "an MX look-up came first");
    }

    [TestCase("rita@nullmx.example", "null mx")]
    [TestCase("rita@nowhere.example", "no such domain")]
    public async Task Deliver_DomainThatTakesNoMail_BouncesExactlyOnce(string recipient, string subject)
    {
        await SendAsync(recipient, subject);

        var bounces = await SettledAsync(_backup, subject, 1);

        Assert.That(bounces, Has.Count.EqualTo(1), "exactly one bounce; the message itself went nowhere");
        Assert.That(bounces[0].From, Is.Empty);
        Assert.That(bounces[0].To, Is.EqualTo(new[] { "sender@org.example" }));
        using var dsn = MimeMessage.Load(new MemoryStream(bounces[0].Data));
        var status = dsn.BodyParts.OfType<MessageDeliveryStatus>().Single().StatusGroups[1];
        Assert.That(status["Final-Recipient"], Is.EqualTo($"rfc822; {recipient}"));
        Assert.That(status["Status"], Does.StartWith("5."), "permanent");
        Assert.That(About(_primary, subject), Is.Empty);
    }

    [Test]
    public async Task Deliver_DnsServerDoesNotAnswer_StaysQueuedWithoutABounce()
    {
        await SendAsync("rita@silent.example", "dns is silent");

        OutboundMessage? queued = null;
        var tried = await RawSmtpTransaction.EventuallyAsync(() =>
        {
            queued = _gateway.Queue.ListAsync(CancellationToken.None).Result.SingleOrDefault(m => m.Recipients.Any(r => r.Address == "rita@silent.example"));
            return queued is { Attempts: >= 1 };
        }, TimeSpan.FromSeconds(60));

        Assert.That(tried, Is.True, "an attempt was made and the message is still queued");
        var recipient = queued!.Recipients.Single();
        Assert.That(recipient.State, Is.EqualTo(RecipientState.Pending));
        Assert.That(recipient.LastResponse, Does.StartWith("4"), "transient");
        Assert.That(About(_backup, "dns is silent"), Is.Empty, "no bounce for a transient failure");
        Assert.That(await _gateway.Queue.DeleteAsync(queued.Id, CancellationToken.None), Is.True);
    }

    [Test]
    public async Task Deliver_OneDomainDeliveredAndAnotherWithSilentDns_KeepsTheDeliveredRecipientDone()
    {
        await SendAsync(["rita@implicit.example", "bob@silent.example"], "half silent");

        OutboundMessage? queued = null;
        var tried = await RawSmtpTransaction.EventuallyAsync(() =>
        {
            queued = _gateway.Queue.ListAsync(CancellationToken.None).Result.SingleOrDefault(m => m.Recipients.Any(r => r.Address == "bob@silent.example"));
            return queued is { Attempts: >= 1 };
        }, TimeSpan.FromSeconds(60));

        Assert.That(tried, Is.True);
        Assert.That(queued!.Recipients.Single(r => r.Address == "rita@implicit.example").State, Is.EqualTo(RecipientState.Delivered),
            "a retry for the silent domain must not send the message to the other domain again");
        Assert.That(queued.Recipients.Single(r => r.Address == "bob@silent.example").State, Is.EqualTo(RecipientState.Pending));
        Assert.That(About(_backup, "half silent"), Has.Count.EqualTo(1));
        Assert.That(await _gateway.Queue.DeleteAsync(queued.Id, CancellationToken.None), Is.True);
    }
}
