using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Vault;

/// <summary>Registers the vault: options, database, outbound queue.</summary>
public static class VaultServiceCollectionExtensions
{
    /// <summary>Adds the vault's services; options are validated at start.</summary>
    public static IServiceCollection AddVault(this IServiceCollection services)
    {
        services.AddOptions<VaultOptions>().BindConfiguration(VaultOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddVaultDatabase();
        services.AddSingleton<OutboundQueue>();
        return services;
    }
}
