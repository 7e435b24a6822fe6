using System.Text;
using MimeKit;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>Lifetime expiry (docs/rules.md D7, D8): a message the next hop keeps deferring bounces exactly once, then leaves the queue.</summary>
[TestFixture]
public sealed class ExpiryTests
{
    [Test]
    public async Task Deliver_NextHopDefersPastTheLifetime_BouncesOnceWithATemporaryStatusAndLeavesTheQueue()
    {
        using var data = new TempDirectory();
        await using var nextHop = new NextHopServer { Mode = NextHopMode.TemporaryFailureExceptBounces };
        await nextHop.StartAsync();
        var settings = TestGateway.DefaultSettings(data.Path, nextHop.Port);
        settings["Queue:MaxLifetime"] = "00:00:03";
        await using var gateway = await TestGateway.StartAsync(data.Path, settings);

        await RawSmtpTransaction.SendWithMailKitAsync(gateway.Endpoint, RawSmtpTransaction.Message("deferred until it expires"));

        var bounces = await nextHop.WaitForAsync(1, TimeSpan.FromSeconds(30));
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => !gateway.Queue.ListAsync(CancellationToken.None).Result.Any(), TimeSpan.FromSeconds(20)),
            Is.True, "the expired message and its bounce leave the queue");
        await Task.Delay(TimeSpan.FromSeconds(3)); // a second bounce would come within a few retry delays
        bounces = nextHop.Messages.ToList();
        Assert.That(bounces, Has.Count.EqualTo(1), "exactly one bounce, and the original was never delivered");
        Assert.That(bounces[0].From, Is.Empty, "a bounce has the null sender");
        Assert.That(bounces[0].To, Is.EqualTo(new[] { "sender@org.example" }));
        using var dsn = MimeMessage.Load(new MemoryStream(bounces[0].Data));
        var recipient = dsn.BodyParts.OfType<MessageDeliveryStatus>().Single().StatusGroups[1];
        Assert.That(recipient["Final-Recipient"], Is.EqualTo("rfc822; rita@elsewhere.example"));
        Assert.That(recipient["Action"], Is.EqualTo("failed"));
        Assert.That(recipient["Status"], Does.Match(@"^4\.\d{1,3}\.\d{1,3}$"), "the last answer was temporary");
        Assert.That(recipient["Diagnostic-Code"], Does.Contain("gave up"));
        var text = Encoding.UTF8.GetString(bounces[0].Data);
        Assert.That(text, Does.Contain("Subject: deferred until it expires"));
        Assert.That(text, Does.Not.Contain("after 0 days"), "the lifetime is stated as configured, not rounded to nothing");
    }
}
