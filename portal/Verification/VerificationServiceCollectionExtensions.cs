namespace SecureMailbox.Portal.Verification;

public static class VerificationServiceCollectionExtensions
{
    /// <summary>SMS codes, their limits and the sender notice.</summary>
    public static IServiceCollection AddRecipientVerification(this IServiceCollection services)
    {
        services.AddOptions<VerificationOptions>().BindConfiguration(VerificationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SmsCodes>();
        services.AddSingleton<SenderNotice>();
        return services;
    }
}
