namespace SecureMailbox.Portal.Security;

/// <summary>
/// Headers on every response (docs/rules.md E5, E7, A14). A page may set its own Content-Security-Policy first (the
/// add-in's pages need office.js; the reading page allows what the reader asked for); otherwise pages get
/// <c>default-src 'self'</c>. Everything that is not a static file is <c>no-store</c>: it may show mail.
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next, IWebHostEnvironment environment)
{
    public const string DefaultPolicy = "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The add-in's pages are framed by Outlook on the web and talk to Office dialogs: no frame or opener
        // restrictions there (their own CSP comes from AddinEndpoints).
        var isAddin = context.Request.Path.StartsWithSegments("/addin", StringComparison.OrdinalIgnoreCase);
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            if (!headers.ContainsKey("Content-Security-Policy"))
            {
                headers.ContentSecurityPolicy = DefaultPolicy;
            }
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            if (!isAddin)
            {
                headers.XFrameOptions = "DENY";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
            }
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()";
            if (!headers.ContainsKey("Cache-Control"))
            {
                headers.CacheControl = "no-store";
            }
            if (!environment.IsDevelopment() && context.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
            }
            return Task.CompletedTask;
        });
        return next(context);
    }
}
