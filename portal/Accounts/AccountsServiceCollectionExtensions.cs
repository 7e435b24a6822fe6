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
        services.AddSingleton<SignInCompletion>();
        services.AddSingleton<AccountDeletion>();
        services.AddSingleton<TwoFactor.Totp>();
        services.AddSingleton<TwoFactor.TotpSecretProtector>();
        services.AddSingleton<TwoFactor.TwoFactorAccounts>();
        services.AddSingleton<TwoFactor.BackupCodes>();
        services.AddSingleton<TwoFactor.PendingSignIns>();
        services.AddSingleton<Security.SecurityEvents>();
        services.AddSingleton<Security.Reauthentication>();
        services.AddSingleton<Recovery.RecoveryRequests>();
        services.AddSingleton<Recovery.PasswordReset>();
        services.AddSingleton<Recovery.TwoFactorRecovery>();
        services.AddSingleton<Phones.PhoneChanges>();
        services.AddSingleton<Settings.SettingsOverview>();
        services.AddSingleton<Notices.NoticeMail>();
        services.AddSingleton<Notices.AccountNotices>();
        return services;
    }
}
