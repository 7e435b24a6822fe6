using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.Kiota.Abstractions.Authentication;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>
/// Graph access tokens for the signed-in user, obtained on behalf of the token the task pane sent
/// (Microsoft.Identity.Web's on-behalf-of flow, cached per user by its token cache).
/// </summary>
public sealed class UserGraphTokenProvider(ITokenAcquisition tokenAcquisition, IOptions<AddinApiOptions> options) : IAccessTokenProvider, IDisposable
{
    private readonly AddinApiOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;

    public AllowedHostsValidator AllowedHostsValidator { get; } =
        new([new Uri(options.Value.GraphBaseUrl).Host]);

    public async Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);

        // Never hand the user's Graph token to another host (e.g. a nextLink pointing elsewhere).
        if (!AllowedHostsValidator.IsUrlHostValid(uri))
        {
            return string.Empty;
        }

        // One request looks up several addresses in parallel: one on-behalf-of exchange serves them all
        // (this provider is scoped to the request; MSAL's cache serves the next request).
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _token ??= await tokenAcquisition.GetAccessTokenForUserAsync(
                _options.GraphScopes,
                authenticationScheme: JwtBearerDefaults.AuthenticationScheme,
                tokenAcquisitionOptions: new TokenAcquisitionOptions { CancellationToken = cancellationToken });
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
