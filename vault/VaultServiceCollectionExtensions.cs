using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Notifications;
using SecureMailbox.Vault.Outbound;
using SecureMailbox.Vault.Phones;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Vault;

/// <summary>Registers the vault: options, database, storage, queue, message writing.</summary>
public static class VaultServiceCollectionExtensions
{
    /// <summary>Adds the vault's services; every options class is validated at start.</summary>
    public static IServiceCollection AddVault(this IServiceCollection services)
    {
        // Both services compose the vault before anything touches the data folder: from here on what they create
        // there is owner-only.
        DurableFile.CreateOwnerOnly();
        services.AddOptions<VaultOptions>().BindConfiguration(VaultOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BlobStorageOptions>().BindConfiguration(BlobStorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PhoneOptions>().BindConfiguration(PhoneOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PortalOptions>().BindConfiguration(PortalOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SecureDeliveryOptions>().BindConfiguration(SecureDeliveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OrganisationsOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(OrganisationsOptions.Section).Bind(options.Items))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddVaultDatabase();
        services.AddHostedService<OrganisationSeeder>();
        services.AddSingleton<OrganisationDirectory>();
        services.AddOptions<LogPrivacyOptions>().BindConfiguration(LogPrivacyOptions.Section);
        services.AddSingleton<AddressMasking>();
        services.AddSingleton<QueueInstance>();
        services.AddSingleton<OutboundQueue>();
        services.AddSingleton<IBlobStore, FolderBlobStore>();
        services.AddSingleton<PhoneNumberRules>();
        services.AddSingleton<LinkKeySecret>();
        services.AddSingleton<VaultWriter>();
        services.AddSingleton<VaultReader>();
        services.AddLocalization(options => options.ResourcesPath = "Resources");
        services.AddSingleton<MailTexts>();
        services.AddSingleton<NotificationComposer>();
        services.AddSingleton<NotificationStager>();
        return services;
    }
}
