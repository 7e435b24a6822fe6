using System.Text.Json;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The gateway process logs JSON lines (docs/operators.md), and with LogPrivacy:MaskAddresses no full address.</summary>
[TestFixture]
public sealed class LoggingTests
{
    [Test]
    public async Task Run_JsonLogsWithMaskedAddresses_EveryLineIsJsonAndNoAddressIsWhole()
    {
        using var data = new TempDirectory();
        await using var nextHop = new NextHopServer();
        await nextHop.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["LogPrivacy__MaskAddresses"] = "true",
        };
        await using var gateway = await GatewayProcess.StartAsync(data.Path, nextHop.Port, environment);

        await RawSmtpTransaction.SendWithMailKitAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, gateway.Port), RawSmtpTransaction.Message("logged"));
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => gateway.Output.Contains("Delivered", StringComparison.Ordinal), TimeSpan.FromSeconds(20)), Is.True, gateway.Output);

        var lines = gateway.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            Assert.That(entry.RootElement.TryGetProperty("LogLevel", out _), Is.True, line);
            Assert.That(entry.RootElement.TryGetProperty("Timestamp", out _), Is.True, line);
        }
        Assert.That(gateway.Output, Does.Not.Contain("rita@elsewhere.example"));
        Assert.That(gateway.Output, Does.Contain("r***@elsewhere.example"));
    }
}
