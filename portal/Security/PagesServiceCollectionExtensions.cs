using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace SecureMailbox.Portal.Security;

public static class PagesServiceCollectionExtensions
{
    /// <summary>Razor Pages organised by feature folder (pages live next to their services), anti-forgery on every POST.</summary>
    public static IServiceCollection AddPortalPages(this IServiceCollection services)
    {
        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/";
            options.Conventions.ConfigureFilter(new AutoValidateAntiforgeryTokenAttribute());
        }).AddViewLocalization();
        services.Configure<FormOptions>(options =>
        {
            options.ValueLengthLimit = 64 * 1024;
            options.ValueCountLimit = 64;
            options.KeyLengthLimit = 256;
            options.MultipartBodyLengthLimit = 1024 * 1024;
        });
        return services;
    }

    /// <summary>The portal's CSS (local, no CDN), cacheable; everything else stays no-store.</summary>
    public static WebApplication UsePortalStaticFiles(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "public, max-age=3600",
        });
        return app;
    }
}
