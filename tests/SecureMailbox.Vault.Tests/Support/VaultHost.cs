using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SecureMailbox.Vault.Tests.Support;

/// <summary>The vault's services on a temporary data folder with a real SQLite file, migrated as at start.</summary>
public sealed class VaultHost : IAsyncDisposable
{
    private readonly IHost _host;

    private VaultHost(IHost host, string dataDirectory)
    {
        _host = host;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    public IServiceProvider Services => _host.Services;

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public static async Task<VaultHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var data = Path.Combine(Path.GetTempPath(), "smbx-vault-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(data);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Vault:DataDirectory"] = data,
            // As an environment variable would give it: a key file beside the temporary folder would outlive it.
            ["Vault:LinkSecret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Organisations:0:Name"] = "Region Test",
            ["Organisations:0:Domains:0"] = "org.example",
            ["Organisations:0:Region"] = "se",
            ["Organisations:1:Name"] = "Stadt Test",
            ["Organisations:1:Domains:0"] = "stadt.example",
            ["Organisations:1:Region"] = "de",
            ["Portal:BaseUrl"] = "https://portal.test",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.Logging.ClearProviders();
        builder.Services.AddVault();
        var host = builder.Build();
        await host.StartAsync();
        return new VaultHost(host, data);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
