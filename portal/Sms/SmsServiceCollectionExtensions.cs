using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Sms;

public static class SmsServiceCollectionExtensions
{
    /// <summary>The SMS sender chosen by <c>Sms:Provider</c>; Twilio settings are validated at start.</summary>
    public static IServiceCollection AddSms(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SmsOptions>().BindConfiguration(SmsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var provider = configuration[$"{SmsOptions.Section}:Provider"] ?? "Outbox";
        if (provider == "Twilio")
        {
            services.AddHttpClient(TwilioSmsSender.HttpClientName)
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler())
                .AddHttpMessageHandler(sp =>
                {
                    var baseUrl = sp.GetRequiredService<IOptions<SmsOptions>>().Value.Twilio.ApiBaseUrl;
                    return baseUrl is null ? new PassThroughHandler() : new TwilioBaseUrlHandler(new Uri(baseUrl));
                });
            services.AddSingleton<ISmsSender, TwilioSmsSender>();
        }
        else
        {
            services.AddSingleton<OutboxSmsSender>();
            services.AddSingleton<ISmsSender>(sp => sp.GetRequiredService<OutboxSmsSender>());
            services.AddHostedService<OutboxAnnouncement>();
        }
        services.AddSingleton<SmsDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<SmsDispatcher>());
        return services;
    }

    private sealed class PassThroughHandler : DelegatingHandler;
}
