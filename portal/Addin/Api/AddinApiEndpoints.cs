using Microsoft.Identity.Client;
using Microsoft.Identity.Web;
using Microsoft.Kiota.Abstractions;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary><c>POST /addin/api/phones</c>: recipients' mobile numbers from Microsoft Graph, for the signed-in sender.</summary>
public static class AddinApiEndpoints
{
    public const string PolicyName = "SecureMailbox.AddinApi";

    /// <summary>Maps the API when <c>AzureAd</c> is configured (see <see cref="AddinApiServiceCollectionExtensions.AddAddinApi"/>); otherwise maps nothing.</summary>
    public static IEndpointRouteBuilder MapAddinApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<AddinApiMarker>() is null)
        {
            return app;
        }

        var group = app.MapGroup("/addin/api").RequireAuthorization(PolicyName);
        group.MapPost("/phones", LookUpPhonesAsync);
        return app;
    }

    private static async Task<IResult> LookUpPhonesAsync(
        HttpContext context, GraphPhoneDirectory directory, AddinLookupRateLimiter limiter, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        var (addresses, error) = await PhoneLookupRequestReader.ReadAsync(context.Request, cancellationToken);
        if (addresses is null)
        {
            return TypedResults.Problem(detail: error, statusCode: StatusCodes.Status400BadRequest, title: "Invalid lookup request");
        }

        // Each address costs up to three Graph calls: the limit counts addresses, per user.
        if (!limiter.TryAcquire(context.User, addresses.Count, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(detail: "Too many look-ups; try again shortly.", statusCode: StatusCodes.Status429TooManyRequests, title: "Look-up limit reached");
        }

        var logger = loggers.CreateLogger(typeof(AddinApiEndpoints));
        try
        {
            var result = await directory.FindAsync(addresses, cancellationToken);
            if (result.Failed.Count == addresses.Count)
            {
                // Nothing could be asked at all: Graph is unavailable, not one address.
                return TypedResults.Problem(detail: "Microsoft Graph refused the lookup.", statusCode: StatusCodes.Status502BadGateway, title: "Graph lookup failed");
            }
            return TypedResults.Ok(new PhoneLookupResponse(result.Phones, result.Failed));
        }
        catch (MicrosoftIdentityWebChallengeUserException exception)
        {
            // Consent for the Graph permissions is missing (or conditional access wants more):
            // the task pane falls back to manual entry.
            logger.LogWarning(exception.MsalUiRequiredException, "On-behalf-of token for Graph refused: {Error}", exception.MsalUiRequiredException.ErrorCode);
            return TypedResults.Problem(detail: "Microsoft Graph access needs consent or another sign-in.", statusCode: StatusCodes.Status403Forbidden, title: "Graph access refused");
        }
        catch (MsalException exception)
        {
            logger.LogWarning(exception, "On-behalf-of token for Graph failed: {Error}", exception.ErrorCode);
            return TypedResults.Problem(detail: "The identity provider did not issue a Graph token.", statusCode: StatusCodes.Status502BadGateway, title: "Sign-in service failed");
        }
        catch (ApiException exception)
        {
            logger.LogWarning(exception, "Graph answered {Status}", exception.ResponseStatusCode);
            return TypedResults.Problem(detail: "Microsoft Graph refused the lookup.", statusCode: StatusCodes.Status502BadGateway, title: "Graph lookup failed");
        }
        catch (AggregateException exception) when (exception.InnerExceptions.All(e => e is ApiException))
        {
            // The Graph SDK's retry handler gave up (throttled or unavailable several times).
            logger.LogWarning(exception, "Graph kept refusing after retries");
            return TypedResults.Problem(detail: "Microsoft Graph is busy; try again shortly.", statusCode: StatusCodes.Status502BadGateway, title: "Graph lookup failed");
        }
        catch (HttpRequestException exception)
        {
            logger.LogWarning(exception, "Graph or the identity provider could not be reached");
            return TypedResults.Problem(detail: "Microsoft Graph could not be reached.", statusCode: StatusCodes.Status502BadGateway, title: "Graph lookup failed");
        }
    }
}

/// <summary>Registered by <see cref="AddinApiServiceCollectionExtensions.AddAddinApi"/> when the API is on.</summary>
public sealed class AddinApiMarker;
