using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SecureMailbox.Gateway.Tests.Support;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Tests;

/// <summary>
/// TLS to a smarthost with a self-signed certificate (a real SMTP server on loopback offering
/// STARTTLS), at each Delivery:Tls level and each way of trusting it.
/// </summary>
[TestFixture]
public sealed class NextHopTlsTests
{
    private X509Certificate2 _certificate = null!;
    private NextHopServer _nextHop = null!;
    private TempDirectory _files = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _files = new TempDirectory();
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=smarthost.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        await File.WriteAllTextAsync(Path.Combine(_files.Path, "smarthost-ca.pem"), _certificate.ExportCertificatePem());
        _nextHop = new NextHopServer { Certificate = _certificate };
        await _nextHop.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _nextHop.DisposeAsync();
        _certificate.Dispose();
        _files.Dispose();
    }

    [SetUp]
    public void Reset() => _nextHop.Messages.Clear();

    private async Task<(IReadOnlyList<ReceivedMessage> Received, OutboundMessage? Queued)> SendAsync(Dictionary<string, string?> overrides, string subject)
    {
        using var data = new TempDirectory();
        var settings = TestGateway.DefaultSettings(data.Path, _nextHop.Port);
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }
        await using var gateway = await TestGateway.StartAsync(data.Path, settings);
        await RawSmtpTransaction.SendWithMailKitAsync(gateway.Endpoint, RawSmtpTransaction.Message(subject));
        await RawSmtpTransaction.EventuallyAsync(
            () => !_nextHop.Messages.IsEmpty || gateway.Queue.ListAsync(CancellationToken.None).Result.Any(m => m.Attempts > 0),
            TimeSpan.FromSeconds(20));
        var queued = await gateway.Queue.ListAsync(CancellationToken.None);
        return (_nextHop.Messages.ToList(), queued.Count > 0 ? queued[0] : null);
    }

    [Test]
    public async Task Opportunistic_SelfSignedSmarthost_DeliversEncrypted()
    {
        var (received, _) = await SendAsync(new() { ["Delivery:Tls"] = "Opportunistic" }, "opportunistic");

        Assert.That(received, Has.Count.EqualTo(1));
        Assert.That(received[0].Secure, Is.True, "encrypted although not verified (RFC 7435)");
    }

    [Test]
    public async Task Required_SelfSignedSmarthostNotTrusted_IsDeferredNotSentInClear()
    {
        var (received, queued) = await SendAsync(new() { ["Delivery:Tls"] = "Required" }, "required untrusted");

        Assert.That(received, Is.Empty);
        Assert.That(queued, Is.Not.Null);
        Assert.That(queued!.Recipients.Single().LastResponse, Does.StartWith("451 4.4.1"), "deferred, retried later");
    }

    [Test]
    public async Task Required_TrustedCaFile_DeliversEncrypted()
    {
        var (received, _) = await SendAsync(new()
        {
            ["Delivery:Tls"] = "Required",
            ["Delivery:TrustedCaFile"] = Path.Combine(_files.Path, "smarthost-ca.pem"),
        }, "private ca");

        Assert.That(received, Has.Count.EqualTo(1));
        Assert.That(received[0].Secure, Is.True);
    }

    [Test]
    public async Task Required_PinnedFingerprint_DeliversEncrypted()
    {
        var fingerprint = string.Join(':', Convert.ToHexString(SHA256.HashData(_certificate.RawData)).Chunk(2).Select(c => new string(c)));

        var (received, _) = await SendAsync(new()
        {
            ["Delivery:Tls"] = "Required",
            ["Delivery:CertificateFingerprints:0"] = fingerprint,
        }, "pinned");

        Assert.That(received, Has.Count.EqualTo(1));
        Assert.That(received[0].Secure, Is.True);
    }

    [Test]
    public async Task Required_WrongPin_IsDeferred()
    {
        var (received, queued) = await SendAsync(new()
        {
            ["Delivery:Tls"] = "Required",
            ["Delivery:CertificateFingerprints:0"] = new string('A', 64),
        }, "wrong pin");

        Assert.That(received, Is.Empty);
        Assert.That(queued!.Recipients.Single().LastResponse, Does.StartWith("451"));
    }

    [Test]
    public async Task Start_OpportunisticToASmarthost_WarnsThatTheCertificateIsNotVerified()
    {
        using var data = new TempDirectory();
        await using var gateway = await GatewayProcess.StartAsync(data.Path, _nextHop.Port);

        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => gateway.Output.Contains("TLS to the next hop is not verified", StringComparison.Ordinal), TimeSpan.FromSeconds(10)), Is.True, gateway.Output);
    }
}
