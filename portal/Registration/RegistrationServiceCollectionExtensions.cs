namespace SecureMailbox.Portal.Registration;

public static class RegistrationServiceCollectionExtensions
{
    /// <summary>Self-service registration: mailed link, SMS code, password.</summary>
    public static IServiceCollection AddRegistration(this IServiceCollection services)
    {
        services.AddSingleton<RegistrationService>();
        return services;
    }
}
