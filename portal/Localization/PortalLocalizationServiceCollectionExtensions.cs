using System.Globalization;
using Microsoft.AspNetCore.Localization;
using SecureMailbox.Portal.Security;

namespace SecureMailbox.Portal.Localization;

public static class PortalLocalizationServiceCollectionExtensions
{
    public static readonly CultureInfo[] Cultures = [new("sv"), new("en")];

    /// <summary>Swedish by default, English on request; the choice lives in the language cookie (set from the account's setting).</summary>
    public static IServiceCollection AddPortalLocalization(this IServiceCollection services)
    {
        services.AddLocalization(options => options.ResourcesPath = "Resources");
        services.AddOptions<RequestLocalizationOptions>().Configure<CookiePolicy>((options, cookies) =>
        {
            options.DefaultRequestCulture = new RequestCulture("sv");
            options.SupportedCultures = Cultures;
            options.SupportedUICultures = Cultures;
            options.RequestCultureProviders = [new CookieRequestCultureProvider { CookieName = cookies.LanguageCookie }];
        });
        return services;
    }

    public static void SetLanguageCookie(HttpContext context, CookiePolicy cookies, string language)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(cookies);
        var value = CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(language == "en" ? "en" : "sv"));
        context.Response.Cookies.Append(cookies.LanguageCookie, value, cookies.Options(context, DateTimeOffset.UtcNow.AddYears(1), SameSiteMode.Lax));
    }
}
