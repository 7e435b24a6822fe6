namespace SecureMailbox.Portal.Mailbox;

public static class MailboxServiceCollectionExtensions
{
    /// <summary>Listing, reading, replying, trash.</summary>
    public static IServiceCollection AddMailbox(this IServiceCollection services)
    {
        services.AddOptions<MailboxOptions>().BindConfiguration(MailboxOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MailboxQueries>();
        services.AddSingleton<TrashService>();
        services.AddSingleton<ReplyService>();
        services.AddSingleton<ResendRequests>();
        return services;
    }
}
