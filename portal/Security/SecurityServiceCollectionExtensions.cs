namespace SecureMailbox.Portal.Security;

public static class SecurityServiceCollectionExtensions
{
    /// <summary>Cookie naming, anti-forgery (cookie and form field), the server secret, rate limits.</summary>
    public static IServiceCollection AddPortalSecurity(this IServiceCollection services)
    {
        services.AddSingleton<CookiePolicy>();
        services.AddSingleton<ServerSecret>();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<RateLimitPolicies>();
        services.AddOptions<EvenTimingOptions>().BindConfiguration(EvenTimingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddAntiforgery();
        services.AddSingleton<Microsoft.AspNetCore.Antiforgery.IAntiforgeryAdditionalDataProvider, SessionBoundAntiforgery>();
        services.AddOptions<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>()
            .Configure<CookiePolicy>((options, cookies) =>
            {
                options.Cookie.Name = cookies.AntiforgeryCookie;
                options.Cookie.SecurePolicy = cookies.SecurePolicy;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.HttpOnly = true;
                options.Cookie.Path = "/";
                options.FormFieldName = "__csrf";
                // Only the streamed reply upload uses the header: it copies the form's first field there itself.
                options.HeaderName = SecureMailbox.Portal.Mailbox.ReplyUploadEndpoint.TokenHeader;
            });
        return services;
    }

    /// <summary>Loopback guard and headers, first in the pipeline.</summary>
    public static WebApplication UsePortalSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<LoopbackOnlyMiddleware>();
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseStatusCodePagesWithReExecute("/error/{0}");
        app.UseExceptionHandler("/error/500");
        return app;
    }
}
