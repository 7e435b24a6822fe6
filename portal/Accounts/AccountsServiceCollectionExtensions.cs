namespace SecureMailbox.Portal.Accounts;

public static class AccountsServiceCollectionExtensions
{
    /// <summary>Password policy, account keys (activation, claiming) and sign-in.</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddOptions<SignInOptions>().BindConfiguration(SignInOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PasswordPolicy>();
        services.AddSingleton<AccountKeys>();
        services.AddSingleton<SignInService>();
        return services;
    }
}
