using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>
/// The inbound side's limits: connection limits per client and in total, the RFC 5321 §4.5.3.2
/// timeout ending with 421 4.4.2, and addresses the relay could not pass on as written refused at RCPT.
/// </summary>
[TestFixture]
public sealed class SessionLimitTests : GatewayFixture
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings["Smtp:MaxConnectionsPerClient"] = "3";
        settings["Smtp:CommandTimeout"] = "00:00:10";
    }

    private async Task<RawSmtpClient> ConnectAsync()
    {
        var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));
        return client;
    }

    [Test]
    public async Task Connect_BeyondThePerClientLimit_Gets421AndASlotFreesWhenOneCloses()
    {
        var open = new List<RawSmtpClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                open.Add(await ConnectAsync());
            }

            using (var refused = await RawSmtpClient.ConnectAsync(Gateway.Endpoint))
            {
                Assert.That(refused.Greeting, Does.StartWith("421 4.7.0"));
                Assert.That(refused.Greeting, Does.Not.Contain("SmtpServer"));
            }

            Assert.That(await open[0].CommandAsync("QUIT"), Does.StartWith("221"));
            open[0].Dispose();
            open.RemoveAt(0);
            string greeting = "";
            Assert.That(await RawSmtpTransaction.EventuallyAsync(() =>
            {
                using var again = RawSmtpClient.ConnectAsync(Gateway.Endpoint).GetAwaiter().GetResult();
                greeting = again.Greeting;
                return greeting.StartsWith("220", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(10)), Is.True, greeting);
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public async Task Idle_PastTheCommandTimeout_SessionEndsWith421()
    {
        using var client = await ConnectAsync();
        var clock = Stopwatch.StartNew();

        var reply = await client.ReadReplyAsync();

        Assert.That(reply, Does.StartWith("421 4.4.2"));
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(8)).And.LessThan(TimeSpan.FromSeconds(30)));
        Assert.ThrowsAsync<IOException>(async () => await client.CommandAsync("NOOP"));
    }

    [Test]
    public async Task Data_ClientStallsMidMessage_SessionEndsWith421AndNothingIsRelayed()
    {
        using var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("RCPT TO:<stall@elsewhere.example>"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("DATA"), Does.StartWith("354"));
        await client.SendAsync("Subject: stalled\r\n\r\nhalf a messa");

        var reply = await client.ReadReplyAsync();

        Assert.That(reply, Does.StartWith("421 4.4.2"));
        await Task.Delay(1000);
        Assert.That(NextHop.Messages.SelectMany(m => m.To), Has.No.Member("stall@elsewhere.example"));
        Assert.That(RawSmtpTransaction.FilesIn(Path.Combine(Data.Path, "spool", "tmp")), Is.Empty);
    }

    [TestCase("RCPT TO:<\"john doe\"@elsewhere.example>", "553 5.1.3")]
    [TestCase("RCPT TO:<\"john@doe\"@elsewhere.example>", "553 5.1.3")]
    [TestCase("RCPT TO:<a%b@elsewhere.example>", "553 5.1.3")]
    public async Task Rcpt_AddressTheRelayCouldNotPassOnAsWritten_IsRefusedSayingWhy(string command, string expected)
    {
        using var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("250"));

        var reply = await client.CommandAsync(command);

        Assert.That(reply, Does.StartWith(expected));
    }

    [Test]
    public async Task Mail_QuotedLocalPartSender_IsRefused()
    {
        using var client = await ConnectAsync();

        Assert.That(await client.CommandAsync("MAIL FROM:<\"sven sender\"@org.example>"), Does.StartWith("553 5.1.7"));
    }

    [Test]
    public async Task Rcpt_SourceRoute_IsStrippedAndTheMailboxIsDeliveredAsWritten()
    {
        using var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("250"));
        var rcpt = await client.CommandAsync("RCPT TO:<@relay.one.example,@relay.two.example:routed@elsewhere.example>");
        if (!rcpt.StartsWith("250", StringComparison.Ordinal))
        {
            Assert.That(rcpt, Does.StartWith("5"), "refused is the other acceptable answer");
            return;
        }
        Assert.That(await client.CommandAsync("DATA"), Does.StartWith("354"));
        await client.SendAsync(RawSmtpTransaction.SimpleData("routed"));
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("250"));

        var messages = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.That(messages.SelectMany(m => m.To), Does.Contain("routed@elsewhere.example"));
    }

    [Test]
    public async Task Rcpt_QuotedLocalPartThatNeedsNoQuotes_IsDeliveredToTheSameMailbox()
    {
        using var client = await ConnectAsync();
        var reply = await client.SendDataAsync("sender@org.example", "\"needless.quotes\"@elsewhere.example", RawSmtpTransaction.SimpleData("quoted"));
        Assert.That(reply, Does.StartWith("250"));

        var messages = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.That(messages.SelectMany(m => m.To), Does.Contain("needless.quotes@elsewhere.example"), "the same mailbox (RFC 5321 §4.1.2)");
        Assert.That(Encoding.ASCII.GetString(messages[0].Data), Does.Contain("Subject: quoted"));
    }
}
