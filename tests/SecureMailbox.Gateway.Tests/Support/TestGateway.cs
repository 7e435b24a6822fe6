using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureMailbox.Gateway.Smtp;
using SecureMailbox.Gateway.Spool;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>The real gateway host, in-process, on 127.0.0.1 with a free port and its own data folder.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly IHost _host;

    private TestGateway(IHost host, string dataDirectory, IPEndPoint endpoint)
    {
        _host = host;
        DataDirectory = dataDirectory;
        Endpoint = endpoint;
    }

    public string DataDirectory { get; }

    public IPEndPoint Endpoint { get; }

    public IServiceProvider Services => _host.Services;

    public OutboundQueue Queue => Services.GetRequiredService<OutboundQueue>();

    /// <summary>Settings every test gateway gets: loopback, port 0, fast retries, relay to the given next hop.</summary>
    public static Dictionary<string, string?> DefaultSettings(string dataDirectory, int nextHopPort) => new()
    {
        ["Vault:DataDirectory"] = dataDirectory,
        // The link secret as an environment variable would give it: a key file beside the temporary folder would outlive it.
        ["Vault:LinkSecret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        ["Smtp:ListenAddress"] = "127.0.0.1",
        ["Smtp:Port"] = "0",
        ["Smtp:ServerName"] = "gateway.test",
        ["Delivery:Mode"] = "Smarthost",
        ["Delivery:SmarthostHost"] = "127.0.0.1",
        ["Delivery:SmarthostPort"] = nextHopPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Delivery:Tls"] = "Opportunistic",
        ["Queue:FirstRetryDelay"] = "00:00:01",
        ["Queue:MaxRetryDelay"] = "00:00:02",
        ["Queue:PollInterval"] = "00:00:00.100",
        ["Logging:LogLevel:Default"] = "Information",
        ["Organisations:0:Name"] = "Org",
        ["Organisations:0:Domains:0"] = "org.example",
        ["Organisations:0:Region"] = "se",
        ["Portal:BaseUrl"] = "https://portal.test",
        ["SecureDelivery:NotificationFrom"] = "no-reply@securemailbox.test",
    };

    public static async Task<TestGateway> StartAsync(string dataDirectory, IDictionary<string, string?> settings)
    {
        var builder = GatewayHost.CreateBuilder([], configuration => configuration.AddInMemoryCollection(settings));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ProgressLoggerProvider(Environment.GetEnvironmentVariable("SMBX_TEST_LOG")));
        var host = builder.Build();
        await host.StartAsync();
        var endpoint = await host.Services.GetRequiredService<SmtpListener>().BoundEndpoint.WaitAsync(TimeSpan.FromSeconds(10));
        await host.Services.GetRequiredService<SpoolProcessor>().Recovered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return new TestGateway(host, dataDirectory, endpoint);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>A fresh folder under the test run's temp folder, removed at the end.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "smbx-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        // The services keep their link secret beside (never inside) the data folder.
        File.Delete(Path + ".link-key");
    }
}
