using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureMailbox.Gateway.Delivery;
using SecureMailbox.Gateway.Secure;
using SecureMailbox.Gateway.Smtp;
using SecureMailbox.Gateway.Spool;
using SmtpServer.Storage;

namespace SecureMailbox.Gateway;

/// <summary>Registers the gateway's areas: SMTP listener, spool, delivery.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>The SMTP listener with its store, filter, authenticator and certificate.</summary>
    public static IServiceCollection AddSmtpListener(this IServiceCollection services)
    {
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ClassificationOptions>().BindConfiguration(ClassificationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddAddinHeaders();
        services.AddSingleton<ISecureMessageHandler, VaultSecureMessageHandler>();
        services.AddSingleton<SecureSenderCheck>();
        services.AddSingleton<MessageClassifier>();
        services.AddSingleton<IMessageStore, SpoolMessageStore>();
        services.AddSingleton<RelayMailboxFilter>();
        services.AddSingleton<ConfiguredUserAuthenticator>();
        services.AddSingleton<ServerCertificate>();
        services.AddSingleton<SmtpListener>();
        services.AddHostedService(provider => provider.GetRequiredService<SmtpListener>());
        return services;
    }

    /// <summary>The spool and the processor that hands entries on.</summary>
    public static IServiceCollection AddSpool(this IServiceCollection services)
    {
        services.AddSingleton<SpoolDirectory>();
        services.AddSingleton<SpoolSignal>();
        services.AddSingleton<SpoolProcessor>();
        services.AddHostedService(provider => provider.GetRequiredService<SpoolProcessor>());
        return services;
    }

    /// <summary>The delivery worker and the configured next hop.</summary>
    public static IServiceCollection AddDelivery(this IServiceCollection services)
    {
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MxResolver>();
        services.AddSingleton<PickupFolder>();
        services.AddSingleton<NextHopCertificatePolicy>();
        services.AddSingleton<SmtpNextHop>();
        services.AddSingleton<INextHop>(provider => provider.GetRequiredService<IOptions<DeliveryOptions>>().Value.Mode == "Pickup"
            ? provider.GetRequiredService<PickupFolder>()
            : provider.GetRequiredService<SmtpNextHop>());
        services.AddSingleton<BounceComposer>();
        services.AddSingleton<DeliveryWorker>();
        services.AddHostedService(provider => provider.GetRequiredService<DeliveryWorker>());
        return services;
    }
}
