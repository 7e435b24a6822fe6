using SecureMailbox.Portal.Sessions;

namespace SecureMailbox.Portal.Accounts;

public static class AccountsServiceCollectionExtensions
{
    /// <summary>Password policy, account keys, sign-in and sessions.</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddOptions<PortalSessionOptions>().BindConfiguration(PortalSessionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SignInOptions>().BindConfiguration(SignInOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PasswordPolicy>();
        services.AddSingleton<AccountKeys>();
        services.AddSingleton<SignInService>();
        services.AddSingleton<SessionStore>();
        return services;
    }
}
