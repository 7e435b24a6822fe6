using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Identity.Web;
using Microsoft.Kiota.Abstractions.Authentication;

namespace SecureMailbox.Portal.Addin.Api;

public static class AddinApiServiceCollectionExtensions
{
    public const string GraphHttpClientName = "SecureMailbox.Graph";

    /// <summary>
    /// When the <c>AzureAd</c> section exists: bearer tokens validated by Microsoft.Identity.Web (issuer,
    /// audience, signature, lifetime, and the <c>AddinApi:RequiredScope</c> scope), the on-behalf-of flow
    /// to Graph, and the phone lookup. Without the section nothing is registered and the API is off.
    /// Needs <c>AddVault</c> (for <c>PhoneNumberRules</c>).
    /// </summary>
    public static IServiceCollection AddAddinApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (!EntraIdSettings.IsConfigured(configuration))
        {
            return services;
        }

        services.AddSingleton<AddinApiMarker>();
        services.AddOptions<EntraIdSettings>()
            .Bind(configuration.GetSection(EntraIdSettings.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EntraIdSettings>, EntraIdSettingsValidation>();
        services.AddOptions<AddinApiOptions>()
            .Bind(configuration.GetSection(AddinApiOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AddinApiOptions>, AddinApiOptionsValidation>();

        // No default scheme: the bearer scheme applies to the add-in API only (named in its policy).
        services.AddAuthentication()
            .AddMicrosoftIdentityWebApi(configuration.GetSection(EntraIdSettings.SectionName), JwtBearerDefaults.AuthenticationScheme)
            .EnableTokenAcquisitionToCallDownstreamApi()
            .AddInMemoryTokenCaches();

        var requiredScope = configuration.GetSection(AddinApiOptions.SectionName)[nameof(AddinApiOptions.RequiredScope)]
            ?? new AddinApiOptions().RequiredScope;
        services.AddAuthorizationBuilder()
            .AddPolicy(AddinApiEndpoints.PolicyName, policy => policy
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireScope(requiredScope));

        // The Graph SDK's own handlers (retry with Retry-After on 429/503, redirects without the
        // token across hosts, telemetry headers), as GraphClientFactory would build them.
        services.AddHttpClient(GraphHttpClientName)
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) =>
            {
                foreach (var handler in GraphClientFactory.CreateDefaultHandlers())
                {
                    handlers.Add(handler);
                }
            });
        services.AddScoped<UserGraphTokenProvider>();
        services.AddScoped(provider =>
        {
            var options = provider.GetRequiredService<IOptions<AddinApiOptions>>().Value;
            var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(GraphHttpClientName);
            var authentication = new BaseBearerTokenAuthenticationProvider(provider.GetRequiredService<UserGraphTokenProvider>());
            return new GraphServiceClient(http, authentication, options.GraphBaseUrl.TrimEnd('/'));
        });
        services.AddScoped<GraphPhoneDirectory>();
        services.AddSingleton<AddinLookupRateLimiter>();
        return services;
    }
}
