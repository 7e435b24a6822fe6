using System.Text;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The size limit is enforced while DATA is read, not only from SIZE= (docs/rules.md S5).</summary>
[TestFixture]
public sealed class SizeLimitTests : GatewayFixture
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Smtp:MaxMessageSize"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Test]
    public async Task Data_TwoMebibytesWithoutSizeParameter_Is552AndTheSessionStaysUsable()
    {
        var body = new StringBuilder();
        while (body.Length < 2 * 1024 * 1024)
        {
            body.Append("This line is part of a message that is far too large for the limit.\r\n");
        }
        var data = Encoding.ASCII.GetBytes("From: <sender@org.example>\r\nSubject: too big\r\n\r\n" + body + ".\r\n");
        using var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", data);

        Assert.That(reply, Does.StartWith("552 5.3.4"));
        Assert.That(RawSmtpTransaction.FilesIn(Path.Combine(Data.Path, "spool", "tmp")), Is.Empty, "nothing left in spool/tmp");
        var small = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", RawSmtpTransaction.SimpleData("small after big"));
        Assert.That(small, Does.StartWith("250"));
        await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.That(NextHop.Messages, Has.Count.EqualTo(1));
        Assert.That(Encoding.ASCII.GetString(NextHop.Messages.Single().Data), Does.Contain("Subject: small after big"));
    }

    [Test]
    public async Task Mail_SizeParameterOverTheLimit_IsRefusedUpFront()
    {
        using var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        var ehlo = await client.CommandAsync("EHLO client.test");
        Assert.That(ehlo, Does.Contain("SIZE 1048576"));

        var mail = await client.CommandAsync("MAIL FROM:<sender@org.example> SIZE=2000000");

        Assert.That(mail, Does.StartWith("552 5.3.4"));
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example> SIZE=2000"), Does.StartWith("250"), "a size within the limit is fine");
    }
}
