using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>A bad configuration stops the gateway at start with a message that names the setting.</summary>
[TestFixture]
public sealed class ConfigurationValidationTests
{
    [TestCase("Smtp:ListenAddress", "not-an-ip", "Smtp:ListenAddress")]
    [TestCase("Smtp:AllowedNetworks:0", "10.0.0.0/33", "Smtp:AllowedNetworks")]
    [TestCase("Delivery:SmarthostHost", "", "Delivery:SmarthostHost")]
    [TestCase("Delivery:Mode", "Carrier-pigeon", "Delivery:Mode")]
    public async Task Start_InvalidSetting_FailsNamingTheSetting(string key, string value, string named)
    {
        using var data = new TempDirectory();
        var settings = TestGateway.DefaultSettings(data.Path, 25);
        settings[key] = value;
        var builder = GatewayHost.CreateBuilder([], configuration => configuration.AddInMemoryCollection(settings));
        builder.Logging.ClearProviders();
        using var host = builder.Build();

        var exception = Assert.CatchAsync<OptionsValidationException>(async () => await host.StartAsync());

        Assert.That(exception!.Message, Does.Contain(named));
    }
}
