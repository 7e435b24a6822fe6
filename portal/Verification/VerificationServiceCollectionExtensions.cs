using SecureMailbox.Portal.Links;
using SecureMailbox.Portal.Security;

namespace SecureMailbox.Portal.Verification;

public static class VerificationServiceCollectionExtensions
{
    /// <summary>Links, pre-sessions, SMS codes and the sender notice.</summary>
    public static IServiceCollection AddRecipientVerification(this IServiceCollection services)
    {
        services.AddOptions<VerificationOptions>().BindConfiguration(VerificationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ServerSecret>();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<PreSessionStore>();
        services.AddSingleton<LinkExchange>();
        services.AddSingleton<SmsCodes>();
        services.AddSingleton<SenderNotice>();
        return services;
    }
}
