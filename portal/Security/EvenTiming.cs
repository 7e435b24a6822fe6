using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Portal.Security;

/// <summary>Configuration section <c>Timing</c>.</summary>
public sealed class EvenTimingOptions
{
    public const string Section = "Timing";

    /// <summary>
    /// The least time the address step of sign-in, forgot password, registration and lost authenticator takes to
    /// answer. Above the slowest ordinary run of the known-address path, so that both answer after the same time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:05", ErrorMessage = "Timing:AddressFlowFloor must be between 0 and 5 seconds.")]
    public TimeSpan AddressFlowFloor { get; set; } = TimeSpan.FromMilliseconds(400);
}

/// <summary>
/// On a page whose main POST takes an e-mail address: that POST answers no sooner than
/// <see cref="EvenTimingOptions.AddressFlowFloor"/> after it started, whether or not the address has an account, so the
/// time of the answer does not tell (docs/rules.md A12). The paths also do the same expensive work where they can (one
/// Argon2id unwrap, SMS sent after the response); the floor covers the database work that differs. Wall-clock time
/// on purpose: it is about what a client measures, not the service's notion of now.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class EvenTimingAttribute : Attribute, IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!HttpMethods.IsPost(context.HttpContext.Request.Method) || !string.IsNullOrEmpty(context.HandlerMethod?.Name))
        {
            await next();
            return;
        }
        var floor = context.HttpContext.RequestServices.GetRequiredService<IOptions<EvenTimingOptions>>().Value.AddressFlowFloor;
        var started = Stopwatch.GetTimestamp();
        await next();
        var left = floor - Stopwatch.GetElapsedTime(started);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, context.HttpContext.RequestAborted);
        }
    }
}
