using System.Net.Security;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using SecureMailbox.Gateway.Smtp;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>Never an open relay (docs/rules.md S4): a gateway that trusts only 10.0.0.0/8, reached from 127.0.0.1.</summary>
[TestFixture]
public sealed class RelayAccessTests : GatewayFixture
{
    private const string User = "relay-user";
    private const string Password = "correct horse battery staple";

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Smtp:AllowedNetworks:0"] = "10.0.0.0/8";
        settings["Smtp:Users:0:Name"] = User;
        settings["Smtp:Users:0:PasswordHash"] = PasswordHash.Create(Password);
    }

    private async Task<RawSmtpClient> ConnectWithTlsAsync()
    {
        var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("STARTTLS"), Does.StartWith("220"));
        var ssl = new SslStream(client.Stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "gateway.test",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        client.Stream = ssl;
        return client;
    }

    private static string AuthPlain(string user, string password) =>
        "AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    [Test]
    public async Task Mail_ClientOutsideTheAllowedNetworks_IsRefusedWith554()
    {
        using var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));

        var mail = await client.CommandAsync("MAIL FROM:<sender@org.example>");

        Assert.That(mail, Does.StartWith("554 5.7.1"));
        Assert.That(await client.CommandAsync("RCPT TO:<rita@elsewhere.example>"), Does.Not.StartWith("2"));
    }

    [Test]
    public async Task Mail_OverTlsWithoutAuth_IsStillRefused()
    {
        using var client = await ConnectWithTlsAsync();
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));

        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("554 5.7.1"));
    }

    [Test]
    public async Task Ehlo_BeforeStartTls_DoesNotOfferAuthButAfterItDoes()
    {
        using var plain = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        var before = await plain.CommandAsync("EHLO client.test");
        Assert.That(before.Split('\n'), Has.None.Contains("AUTH"));
        var plainAuth = await plain.CommandAsync(AuthPlain(User, Password));
        Assert.That(plainAuth, Does.Not.StartWith("235"), "no AUTH in clear text, even with the right password");
        Assert.That(await plain.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("554"));

        using var secure = await ConnectWithTlsAsync();
        var after = await secure.CommandAsync("EHLO client.test");

        Assert.That(after.Split('\n'), Has.Some.Match("^250[ -]AUTH .*PLAIN"));
    }

    [Test]
    public async Task Auth_PlainAfterStartTlsWithTheRightPassword_CanRelay()
    {
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync(Gateway.Endpoint.Address.ToString(), Gateway.Endpoint.Port, SecureSocketOptions.StartTls);
            await client.AuthenticateAsync(new SaslMechanismPlain(User, Password));
            await client.SendAsync(RawSmtpTransaction.Message("authenticated relay"));
            await client.DisconnectAsync(true);
        }

        var messages = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.That(messages, Has.Count.EqualTo(1));
        var text = Encoding.ASCII.GetString(messages[0].Data);
        Assert.That(text, Does.Contain("Subject: authenticated relay"));
        Assert.That(text, Does.Contain("with ESMTPSA id"), "the Received header records TLS and AUTH (RFC 3848)");
    }

    [Test]
    public async Task Auth_WrongPassword_IsRefusedWith535AndCannotRelay()
    {
        using var client = await ConnectWithTlsAsync();
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));

        var auth = await client.CommandAsync(AuthPlain(User, "wrong password"));

        Assert.That(auth, Does.StartWith("535"));
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("554 5.7.1"));
        await Task.Delay(500);
        Assert.That(NextHop.Messages, Is.Empty);
    }

    [Test]
    public async Task Mail_ClientThatMayNotRelayKeepsTrying_IsDisconnectedWith421AfterThreeRefusals()
    {
        using var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));

        Assert.That(await client.CommandAsync("MAIL FROM:<a@org.example>"), Does.StartWith("554 5.7.1"));
        Assert.That(await client.CommandAsync("MAIL FROM:<b@org.example>"), Does.StartWith("554 5.7.1"));
        var third = await client.CommandAsync("MAIL FROM:<c@org.example>");

        Assert.That(third, Does.StartWith("421 4.7.0"));
        Assert.ThrowsAsync<IOException>(async () => await client.CommandAsync("NOOP"), "the gateway closed the connection");
    }
}
