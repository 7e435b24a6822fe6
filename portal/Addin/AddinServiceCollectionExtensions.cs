using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Addin;

public static class AddinServiceCollectionExtensions
{
    /// <summary>Binds and validates the <c>Addin</c> settings; a bad value stops the portal at start.</summary>
    public static IServiceCollection AddAddin(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AddinOptions>()
            .Bind(configuration.GetSection(AddinOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<AddinOptions>, AddinOptionsDefaults>();
        services.AddSingleton<IValidateOptions<AddinOptions>, AddinOptionsValidation>();
        services.AddSingleton<AddinGatewayKey>();
        return services;
    }
}
