using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SecureMailbox.Portal.Tests.Addin.Api;

/// <summary>
/// The far side of the add-in API, served on 127.0.0.1 over https with a certificate this test made:
/// an Entra-like OpenID Connect issuer (metadata, JWKS, instance discovery, the on-behalf-of token
/// endpoint) and a Graph endpoint with contacts and users. Every request is recorded.
/// </summary>
/// <remarks>
/// The portal's URLs name <c>https://127.0.0.1/</c> (port 443) and MSAL asks
/// <c>login.microsoftonline.com</c> for instance discovery; <see cref="CreateHandler"/> connects every
/// such request to this server's real port and trusts only this certificate, so nothing leaves the machine.
/// </remarks>
public sealed partial class FakeEntraAndGraph : IAsyncDisposable
{
    public const string TenantId = "7f1c2a94-5b1e-4a43-9a0e-0c6a1d2b3c4d";
    public const string ClientId = "3b8e6f21-9d4c-4e7a-b1f2-6a5c4d3e2f10";
    public const string ClientSecret = "portal-client-secret";
    public const string TaskPaneClientId = "d2c1b0a9-8f7e-4d6c-b5a4-93827160f5e4";
    public const string GraphAccessToken = "graph-token-for-anna";
    public const string Host = "127.0.0.1";

    public static string Instance => $"https://{Host}/";

    public static string Issuer => $"https://{Host}/{TenantId}/v2.0";

    private readonly RSA _signingKey = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private WebApplication? _app;

    public FakeEntraAndGraph()
    {
        _certificate = CreateCertificate();
        SigningKey = new RsaSecurityKey(_signingKey) { KeyId = "test-key-1" };
    }

    public int Port { get; private set; }

    public RsaSecurityKey SigningKey { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Mobile numbers the user's contacts hold, by address (Graph's <c>/me/contacts</c>).</summary>
    public Dictionary<string, string> Contacts { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The organisation's contacts (mail contacts): mobile number by <c>mail</c> (Graph's <c>/contacts</c>, orgContact).</summary>
    public Dictionary<string, string> OrgContacts { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Addresses for which every Graph request about them is answered 500 (a failure for that address only).</summary>
    public HashSet<string> FailingAddresses { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Directory users' <c>mobilePhone</c>, by address (Graph's <c>/users/{id}</c>).</summary>
    public Dictionary<string, string?> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many of the next <c>/me/contacts</c> requests are answered 429 (throttled, Retry-After: 0).</summary>
    public int ThrottleContacts { get; set; }

    /// <summary>When set, the token endpoint refuses the on-behalf-of exchange with this AAD error.</summary>
    public string? TokenEndpointError { get; set; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(_certificate);
            }));
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            var form = context.Request.HasFormContentType ? (await context.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString()) : [];
            Requests.Enqueue(new RecordedRequest(
                context.Request.Method,
                context.Request.Host.Value ?? "",
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                context.Request.Headers.Authorization.ToString(),
                form));
            await next(context);
        });

        _app.MapGet("/common/discovery/instance", () => Results.Json(new Dictionary<string, object>
        {
            ["tenant_discovery_endpoint"] = $"{Issuer}/.well-known/openid-configuration",
            ["api-version"] = "1.1",
            ["metadata"] = new[] { new { preferred_network = Host, preferred_cache = Host, aliases = new[] { Host } } },
        }));
        _app.MapGet($"/{TenantId}/v2.0/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = $"https://{Host}/{TenantId}/oauth2/v2.0/authorize",
            ["token_endpoint"] = $"https://{Host}/{TenantId}/oauth2/v2.0/token",
            ["jwks_uri"] = $"https://{Host}/{TenantId}/discovery/v2.0/keys",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["response_types_supported"] = new[] { "code", "id_token" },
            ["subject_types_supported"] = new[] { "pairwise" },
        }));
        _app.MapGet($"/{TenantId}/discovery/v2.0/keys", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_signingKey.ExportParameters(false)) { KeyId = SigningKey.KeyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, use = "sig", kid = jwk.Kid, n = jwk.N, e = jwk.E } } });
        });
        _app.MapPost($"/{TenantId}/oauth2/v2.0/token", (HttpContext context) =>
        {
            var form = context.Request.Form;
            if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
            {
                return Results.Json(new { error = "invalid_client", error_description = "AADSTS7000215: Invalid client secret provided." }, statusCode: 401);
            }

            if (TokenEndpointError is { } error)
            {
                return Results.Json(new { error, error_description = "AADSTS65001: The user or administrator has not consented.", suberror = "consent_required" }, statusCode: 400);
            }

            if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" || form["requested_token_use"] != "on_behalf_of")
            {
                return Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400);
            }

            return Results.Json(new Dictionary<string, object>
            {
                ["token_type"] = "Bearer",
                ["scope"] = form["scope"].ToString(),
                ["expires_in"] = 3600,
                ["ext_expires_in"] = 3600,
                ["access_token"] = GraphAccessToken,
            });
        });

        _app.MapGet("/v1.0/me/contacts", (HttpContext context) =>
        {
            if (!IsGraphAuthorised(context))
            {
                return GraphUnauthorised();
            }

            if (ThrottleContacts > 0)
            {
                ThrottleContacts--;
                context.Response.Headers.RetryAfter = "0";
                return Results.Json(new { error = new { code = "TooManyRequests", message = "Throttled." } }, statusCode: 429);
            }

            // Like Graph, only the filter form it supports on contacts (emailAddresses/any(a:a/address eq '…'));
            // anything else is 400. Like a careless server, it also answers a contact nobody asked about: the API must
            // not pass it on.
            var match = ContactsFilter().Match(context.Request.Query["$filter"].ToString());
            if (!match.Success)
            {
                return Results.Json(new { error = new { code = "ErrorInvalidUrlQueryFilter", message = "The query filter contains one or more invalid nodes." } }, statusCode: 400);
            }
            var asked = match.Groups["address"].Value.Replace("''", "'", StringComparison.Ordinal);
            if (FailingAddresses.Contains(asked))
            {
                return Results.Json(new { error = new { code = "generalException", message = "General exception while processing." } }, statusCode: 500);
            }
            var value = new List<object>
            {
                new { id = "c-stranger", mobilePhone = "+46709999999", emailAddresses = new[] { new { address = "stranger@elsewhere.se", name = "Stranger" } } },
            };
            if (Contacts.TryGetValue(asked, out var number))
            {
                value.Add(new { id = "c-1", mobilePhone = number, emailAddresses = new[] { new { address = asked.ToUpperInvariant(), name = "Contact" } } });
            }

            return Results.Json(new Dictionary<string, object> { ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#users('me')/contacts", ["value"] = value });
        });
        _app.MapGet("/v1.0/contacts", (HttpContext context) =>
        {
            if (!IsGraphAuthorised(context))
            {
                return GraphUnauthorised();
            }

            // orgContact: $filter on mail (eq), as Graph supports it.
            var match = MailFilter().Match(context.Request.Query["$filter"].ToString());
            if (!match.Success)
            {
                return Results.Json(new { error = new { code = "Request_UnsupportedQuery", message = "Unsupported or invalid query filter clause specified." } }, statusCode: 400);
            }
            var asked = match.Groups["address"].Value.Replace("''", "'", StringComparison.Ordinal);
            if (FailingAddresses.Contains(asked))
            {
                return Results.Json(new { error = new { code = "Service_InternalServerError", message = "Encountered an internal server error." } }, statusCode: 500);
            }
            var value = new List<object>();
            if (OrgContacts.TryGetValue(asked, out var number))
            {
                value.Add(new
                {
                    id = "oc-1",
                    mail = asked,
                    phones = new object[] { new { type = "business", number = "+46 8 123 456 00" }, new { type = "mobile", number } },
                });
            }
            return Results.Json(new Dictionary<string, object> { ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#contacts", ["value"] = value });
        });
        _app.MapGet("/v1.0/users/{id}", (HttpContext context, string id) =>
        {
            if (!IsGraphAuthorised(context))
            {
                return GraphUnauthorised();
            }

            if (FailingAddresses.Contains(id))
            {
                return Results.Json(new { error = new { code = "Service_InternalServerError", message = "Encountered an internal server error." } }, statusCode: 500);
            }

            return Users.TryGetValue(id, out var mobile)
                ? Results.Json(new Dictionary<string, object?> { ["id"] = Guid.NewGuid().ToString(), ["mobilePhone"] = mobile })
                : Results.Json(new { error = new { code = "Request_ResourceNotFound", message = $"Resource '{id}' does not exist." } }, statusCode: 404);
        });
        _app.MapFallback((HttpContext context) => Results.Json(new { error = "not_served_by_fake", path = context.Request.Path.Value }, statusCode: 404));

        await _app.StartAsync();
        Port = new Uri(_app.Urls.First()).Port;
    }

    /// <summary>
    /// A handler for the portal's HTTP clients (JWKS, issuer validation, MSAL, Graph): whatever host a
    /// request names, it is connected to this server, and only this server's certificate is trusted.
    /// </summary>
    public HttpMessageHandler CreateHandler() => new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == _certificate.GetCertHashString(),
        },
    };

    /// <summary>A v2.0 access token for the portal's API, as Entra would issue it to the task pane.</summary>
    public string IssueToken(
        string scope = "access_as_user",
        string? audience = null,
        string? issuer = null,
        DateTime? notBefore = null,
        DateTime? expires = null,
        SecurityKey? key = null,
        string objectId = "0a1b2c3d-0000-4000-8000-00000000a11a")
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["tid"] = TenantId,
            ["oid"] = objectId,
            ["sub"] = "anna-subject",
            ["preferred_username"] = "anna@example.se",
            ["name"] = "Anna Andersson",
            ["azp"] = TaskPaneClientId,
            ["ver"] = "2.0",
            ["uti"] = Guid.NewGuid().ToString("N"),
            ["scp"] = scope,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience ?? ClientId,
            Claims = claims,
            IssuedAt = notBefore ?? now.AddMinutes(-1),
            NotBefore = notBefore ?? now.AddMinutes(-1),
            Expires = expires ?? now.AddHours(1),
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>The same claims with <c>alg: none</c> and no signature.</summary>
    public string IssueUnsignedToken()
    {
        var signed = IssueToken();
        var payload = signed.Split('.')[1];
        var header = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { alg = "none", typ = "JWT" }));
        return $"{header}.{payload}.";
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _certificate.Dispose();
        _signingKey.Dispose();
    }

    private static bool IsGraphAuthorised(HttpContext context) =>
        context.Request.Headers.Authorization.ToString() == $"Bearer {GraphAccessToken}";

    private static IResult GraphUnauthorised() =>
        Results.Json(new { error = new { code = "InvalidAuthenticationToken", message = "Access token is empty." } }, statusCode: 401);

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={Host}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^emailAddresses/any\((?<v>\w+):\k<v>/address eq '(?<address>(?:[^']|'')*)'\)$")]
    private static partial System.Text.RegularExpressions.Regex ContactsFilter();

    [System.Text.RegularExpressions.GeneratedRegex(@"^mail eq '(?<address>(?:[^']|'')*)'$")]
    private static partial System.Text.RegularExpressions.Regex MailFilter();
}

public sealed record RecordedRequest(string Method, string Host, string Path, string Query, string Authorization, IReadOnlyDictionary<string, string> Form);
