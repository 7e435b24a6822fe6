using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.Kiota.Abstractions.Authentication;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>
/// Graph access tokens for the signed-in user, obtained on behalf of the token the task pane sent
/// (Microsoft.Identity.Web's on-behalf-of flow, cached per user by its token cache).
/// </summary>
public sealed class UserGraphTokenProvider(ITokenAcquisition tokenAcquisition, IOptions<AddinApiOptions> options) : IAccessTokenProvider
{
    private readonly AddinApiOptions _options = options.Value;

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

        return await tokenAcquisition.GetAccessTokenForUserAsync(
            _options.GraphScopes,
            authenticationScheme: JwtBearerDefaults.AuthenticationScheme,
            tokenAcquisitionOptions: new TokenAcquisitionOptions { CancellationToken = cancellationToken });
    }
}
