namespace SecureMailbox.Portal.Sessions;

public static class SessionsServiceCollectionExtensions
{
    /// <summary>Signed-in sessions and their timeouts (section <c>Sessions</c>, also the pre-session lifetime).</summary>
    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.AddOptions<PortalSessionOptions>().BindConfiguration(PortalSessionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SessionStore>();
        return services;
    }
}
