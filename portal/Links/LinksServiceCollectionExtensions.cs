namespace SecureMailbox.Portal.Links;

public static class LinksServiceCollectionExtensions
{
    /// <summary>Notification links and the pre-sessions they turn into.</summary>
    public static IServiceCollection AddLinks(this IServiceCollection services)
    {
        services.AddSingleton<PreSessionStore>();
        services.AddSingleton<LinkExchange>();
        return services;
    }
}
