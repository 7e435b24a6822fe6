using System.Text;
using System.Text.RegularExpressions;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>Delivery:Mode=Pickup: each message becomes data/pickup/ID.eml with the envelope in X-Envelope-* headers.</summary>
[TestFixture]
public sealed partial class PickupTests
{
    [GeneratedRegex("queued as (\\w+)")]
    private static partial Regex QueuedAs();

    [Test]
    public async Task Deliver_PickupMode_WritesEnvelopeHeadersThenTheMessageWithoutPrivateHeaders()
    {
        using var data = new TempDirectory();
        var settings = TestGateway.DefaultSettings(data.Path, 25);
        settings["Delivery:Mode"] = "Pickup";
        settings.Remove("Delivery:SmarthostHost");
        await using var gateway = await TestGateway.StartAsync(data.Path, settings);
        var message = RawSmtpTransaction.Message("to the pickup folder");
        message.Headers.Add("X-SecureMailbox-Trace", "internal only");
        message.Headers.Add("X-SecureMailbox-Client", "folded\r\n continuation");

        var reply = await RawSmtpTransaction.SendWithMailKitAsync(gateway.Endpoint, message);

        var id = QueuedAs().Match(reply).Groups[1].Value;
        var path = Path.Combine(data.Path, "pickup", id + ".eml");
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => File.Exists(path), TimeSpan.FromSeconds(20)), Is.True, path);
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => !gateway.Queue.ListAsync(CancellationToken.None).Result.Any(), TimeSpan.FromSeconds(10)), Is.True);
        var text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(path));
        Assert.That(text, Does.StartWith("X-Envelope-From: <sender@org.example>\r\nX-Envelope-To: <rita@elsewhere.example>\r\nReceived: from "));
        Assert.That(text, Does.Contain($" id {id};"));
        Assert.That(text, Does.Not.Contain("X-SecureMailbox"));
        Assert.That(text, Does.Not.Contain("continuation"), "a folded private header goes with its continuation lines");
        Assert.That(text, Does.Contain("Subject: to the pickup folder\r\n"));
        Assert.That(text, Does.EndWith("\r\n\r\nHej Rita.\r\n"));
    }
}
