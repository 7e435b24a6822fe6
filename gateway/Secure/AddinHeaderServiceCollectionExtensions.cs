using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SecureMailbox.Gateway.Secure;

/// <summary>Registers the add-in header key and the reader of the add-in's phone headers.</summary>
public static class AddinHeaderServiceCollectionExtensions
{
    public static IServiceCollection AddAddinHeaders(this IServiceCollection services)
    {
        services.AddOptions<AddinHeaderOptions>().BindConfiguration(AddinHeaderOptions.Section);
        services.AddSingleton<AddinHeaderKey>();
        services.AddSingleton<AddinPhoneHeaders>();
        // Load (or create) the key at start: a bad key file stops the gateway, and the public key file exists
        // for the portal before the first message arrives.
        services.AddHostedService<AddinHeaderKeyLoader>();
        return services;
    }

    private sealed class AddinHeaderKeyLoader(AddinHeaderKey key) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.FromResult(key.Recipient);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
