using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Addin;

/// <summary>The Outlook add-in's files, settings and manifest under <c>/addin/</c>.</summary>
public static class AddinEndpoints
{
    /// <summary>
    /// Script sources: our own files and Office.js from Microsoft's CDN (office.js loads its
    /// host-specific parts from the same host). No inline script anywhere in the pane.
    /// </summary>
    public const string ContentSecurityPolicy =
        "script-src 'self' https://appsforoffice.microsoft.com; object-src 'none'; base-uri 'self'; form-action 'none'";

    /// <summary>Cache-Control of the add-in's icons.</summary>
    public const string AssetCacheControl = "public, max-age=86400";

    public static IEndpointRouteBuilder MapAddin(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.ServiceProvider.GetRequiredService<IOptions<AddinOptions>>().Value;
        var group = app.MapGroup("/addin");

        group.MapGet("/config.json", (IOptions<AddinOptions> settings, AddinGatewayKey gatewayKey, HttpContext context) =>
        {
            var o = settings.Value;
            SetCommonHeaders(context.Response);
            context.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Json(new AddinClientConfig(
                o.OrganisationDomains.Select(d => d.Trim().ToLowerInvariant()).ToArray(),
                o.SubjectKeyword.Trim(),
                o.DefaultCountry.ToUpperInvariant(),
                o.PortalBaseUrl.TrimEnd('/'),
                o.GraphLookup,
                o.GraphLookup ? new AddinSignInConfig(o.SignInClientId, o.SignInAuthority.TrimEnd('/'), o.ApiScope) : null,
                gatewayKey.Current()));
        });

        // The OnMessageSend script with the configured keywords written in: classic Outlook runs it alone, without
        // a page that could fetch config.json first.
        group.MapGet("/launchevent.js", async (IOptions<AddinOptions> settings, HttpContext context, CancellationToken cancellationToken) =>
        {
            var o = settings.Value;
            var script = await File.ReadAllTextAsync(Path.Combine(o.WebRoot, "launchevent.js"), cancellationToken);
            SetCommonHeaders(context.Response);
            context.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Text(AddinLaunchEventScript.WithKeywords(script, [o.SubjectKeyword, .. o.OtherSubjectKeywords]), "text/javascript; charset=utf-8");
        });

        group.MapGet("/manifest.xml", async (IOptions<AddinOptions> settings, HttpContext context, CancellationToken cancellationToken) =>
        {
            var o = settings.Value;
            var xml = await File.ReadAllTextAsync(o.ManifestPath, cancellationToken);
            SetCommonHeaders(context.Response);
            context.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Text(AddinManifest.Rewrite(xml, o.PortalBaseUrl), "application/xml; charset=utf-8");
        });

        // Static files through the real static file middleware (ETags, ranges, HEAD, no dotfiles,
        // no path traversal), on a branch pipeline so Program.cs needs no UseStaticFiles for it.
        var files = app.CreateApplicationBuilder();
        files.Use((context, next) =>
        {
            // The static file middleware stands back when an endpoint is already selected
            // (this catch-all one), so clear it, as MapFallbackToFile does.
            context.SetEndpoint(null);
            context.Response.OnStarting(() =>
            {
                SetCommonHeaders(context.Response);
                if (context.Request.Path.Value?.EndsWith(".html", StringComparison.OrdinalIgnoreCase) == true)
                {
                    context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
                }

                // These files hold no mail, and Outlook shows a generic image instead of an icon it may not cache.
                // Icons keep a day; the pane's code is revalidated (ETag) on each load so an update applies at once.
                context.Response.Headers.CacheControl = context.Request.Path.StartsWithSegments("/addin/assets", StringComparison.OrdinalIgnoreCase)
                    ? AssetCacheControl
                    : "no-cache";

                return Task.CompletedTask;
            });
            return next(context);
        });
        files.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Path.GetFullPath(options.WebRoot)),
            RequestPath = "/addin",
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            ServeUnknownFileTypes = false,
        });
        files.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        group.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head], files.Build());

        return app;
    }

    private static void SetCommonHeaders(HttpResponse response)
    {
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}

/// <summary>What the task pane reads from <c>/addin/config.json</c>.</summary>
public sealed record AddinClientConfig(
    IReadOnlyList<string> OrganisationDomains,
    string SubjectKeyword,
    string DefaultCountry,
    string PortalBaseUrl,
    bool GraphLookup,
    AddinSignInConfig? SignIn,
    string? GatewayRecipient);

/// <summary>How the task pane signs in for the Graph lookup (present only when it is on).</summary>
public sealed record AddinSignInConfig(string ClientId, string Authority, string ApiScope);
