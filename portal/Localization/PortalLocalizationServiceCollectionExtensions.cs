using System.Globalization;
using Microsoft.AspNetCore.Localization;
using SecureMailbox.Portal.Security;

namespace SecureMailbox.Portal.Localization;

public static class PortalLocalizationServiceCollectionExtensions
{
    public static readonly CultureInfo[] Cultures = [new("sv"), new("en")];

    /// <summary>
    /// Swedish by default. The language cookie (set by the language switch, or from the account's setting at sign-in)
    /// wins; without it the browser's <c>Accept-Language</c> decides, so a recipient whose browser asks for English
    /// gets English from the very first page (docs/users.md, "Språk").
    /// </summary>
    public static IServiceCollection AddPortalLocalization(this IServiceCollection services)
    {
        services.AddLocalization(options => options.ResourcesPath = "Resources");
        services.AddOptions<RequestLocalizationOptions>().Configure<CookiePolicy>((options, cookies) =>
        {
            options.DefaultRequestCulture = new RequestCulture("sv");
            options.SupportedCultures = Cultures;
            options.SupportedUICultures = Cultures;
            options.FallBackToParentCultures = true;
            options.FallBackToParentUICultures = true;
            options.RequestCultureProviders =
            [
                new CookieRequestCultureProvider { CookieName = cookies.LanguageCookie },
                new AcceptLanguageHeaderRequestCultureProvider { MaximumAcceptLanguageHeaderValuesToTry = 5 },
            ];
        });
        services.AddOptions<DisplayOptions>().BindConfiguration(DisplayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpContextAccessor();
        services.AddSingleton<ReaderTime>();
        return services;
    }

    /// <summary>The language of the current request: <c>en</c> or <c>sv</c>.</summary>
    public static string CurrentLanguage => CultureInfo.CurrentUICulture.TwoLetterISOLanguageName == "en" ? "en" : "sv";

    public static void SetLanguageCookie(HttpContext context, CookiePolicy cookies, string language)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(cookies);
        var value = CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(language == "en" ? "en" : "sv"));
        context.Response.Cookies.Append(cookies.LanguageCookie, value, cookies.Options(context, DateTimeOffset.UtcNow.AddYears(1), SameSiteMode.Lax));
    }
}
