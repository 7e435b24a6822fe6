using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Tests.Support;

namespace SecureMailbox.Portal.Tests.Security;

/// <summary>
/// Every limit holds when 50 requests arrive at once (docs/rules.md A16, docs/rules.md property 9): the requests go through
/// the real host in parallel and the test counts how many were actually checked or acted on.
/// </summary>
[TestFixture]
public sealed class ParallelLimitTests
{
    private const int Parallel = 50;

    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory();

    [TearDown]
    public void Stop() => _portal.Dispose();

    private int LogLines(string text) => _portal.Logs.Lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    private static async Task<List<HttpStatusCode>> AllAtOnceAsync(int count, Func<int, Task<HttpResponseMessage>> send)
    {
        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await start.WaitAsync();
            using var response = await send(i);
            return response.StatusCode;
        }).ToList();
        start.Release(count);
        return [.. await Task.WhenAll(tasks)];
    }

    [Test]
    public async Task CheckCode_FiftyParallelWrongCodes_AtMostFiveCheckedAndTheRightOneRefused()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify);
        var code = _portal.LatestSmsCode();
        var wrong = code == "000000" ? "111111" : "000000";

        await AllAtOnceAsync(Parallel, _ => RecipientJourney.CheckCodeAsync(client, html, wrong));
        using var right = await RecipientJourney.CheckCodeAsync(client, html, code);

        var checkedCodes = LogLines("Wrong SMS code");
        TestContext.Out.WriteLine($"{Parallel} parallel wrong SMS codes: {checkedCodes} checked (limit 5); the right one after: {right.StatusCode}");
        Assert.That(checkedCodes, Is.LessThanOrEqualTo(5));
        Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "the right code is refused once 5 checks are used");
        await using var db = await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.That(await db.SmsCodeRequests.MaxAsync(r => r.Checks), Is.LessThanOrEqualTo(5));
    }

    [Test]
    public async Task SignIn_FiftyParallelWrongPasswords_NeverExceedTheAccountLimit()
    {
        (await AccountSecurityJourney.SignedInAsync(_portal)).Dispose();
        var limit = _portal.Services.GetRequiredService<RateLimitPolicies>().SignInFailuresPerAccount.Limit;
        using var client = _portal.Browser();
        var page = await client.PageAsync("/signin");

        await AllAtOnceAsync(Parallel, i => client.PostFormAsync("/signin", page.Html,
            ("email", PortalFactory.PatientAddress), ("password", "fel lösenord nummer " + i), ("returnUrl", "/mailbox")));
        using var right = await RecipientJourney.SignInAsync(_portal.Browser(), PortalFactory.PatientAddress, RecipientJourney.Password);

        var checkedPasswords = LogLines("Failed sign-in from");
        TestContext.Out.WriteLine($"{Parallel} parallel wrong passwords: {checkedPasswords} checked (limit {limit}); the right one after: {right.StatusCode}");
        Assert.That(checkedPasswords, Is.LessThanOrEqualTo(limit));
        Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "the account is throttled, even for the right password");
    }

    [Test]
    public async Task SendCode_FiftyParallelSendsOverTenLinksToOneNumber_StayWithinThePerNumberLimit()
    {
        var limit = _portal.Services.GetRequiredService<RateLimitPolicies>().SmsSendsPerPhone.Limit;
        var pages = new List<(HttpClient Client, string Html)>();
        for (var i = 0; i < 10; i++)
        {
            var (token, _) = await _portal.StoreMessageAsync("Ämne " + i);
            var client = _portal.Browser();
            pages.Add((client, await RecipientJourney.OpenLinkAsync(client, token)));
        }

        var statuses = await AllAtOnceAsync(Parallel, i => pages[i % pages.Count].Client.PostFormAsync("/verify?handler=Send", pages[i % pages.Count].Html));

        TestContext.Out.WriteLine($"{Parallel} parallel SMS sends over 10 links to one number: {_portal.SmsCount()} sent (limit {limit})");
        Assert.That(_portal.SmsCount(), Is.LessThanOrEqualTo(limit));
        Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(_portal.SmsCount()));
        pages.ForEach(p => p.Client.Dispose());
    }

    [Test]
    public async Task SendCode_FiftyParallelSendsOnOneLink_SendOneCode()
    {
        var (token, _) = await _portal.StoreMessageAsync("Ämne");
        using var client = _portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);

        await AllAtOnceAsync(Parallel, _ => client.PostFormAsync("/verify?handler=Send", verify));

        TestContext.Out.WriteLine($"{Parallel} parallel SMS sends on one link: {_portal.SmsCount()} sent (the resend delay allows 1)");
        Assert.That(_portal.SmsCount(), Is.EqualTo(1));
    }

    [Test]
    public async Task ForgotPassword_FiftyParallelRequestsForOneAddress_AtMostTheLimitAccepted()
    {
        var limit = RateLimitPolicies.ForgotPasswordPerAddress.Limit;
        using var client = _portal.Browser();
        var page = await client.PageAsync("/signin/forgot");

        var statuses = await AllAtOnceAsync(Parallel, _ => client.PostFormAsync("/signin/forgot", page.Html, ("email", "nobody@patient.example")));

        var accepted = statuses.Count(s => s == HttpStatusCode.Redirect);
        TestContext.Out.WriteLine($"{Parallel} parallel forgot-password requests: {accepted} accepted (limit {limit})");
        Assert.That(accepted, Is.LessThanOrEqualTo(limit));
        Assert.That(statuses.Count(s => s == HttpStatusCode.TooManyRequests), Is.EqualTo(Parallel - accepted));
    }

    [Test]
    public async Task Register_FiftyParallelRequestsForOneAddress_AtMostTheLimitMailed()
    {
        const string address = "ny@patient.example";
        var limit = RateLimitPolicies.RegistrationPerAddress.Limit;
        using var client = _portal.Browser();
        var page = await client.PageAsync("/register");

        var statuses = await AllAtOnceAsync(Parallel, _ => client.PostFormAsync("/register", page.Html, ("email", address), ("phone", PortalFactory.PatientPhone)));

        var mailed = (await _portal.QueuedMailToAsync(address)).Count;
        TestContext.Out.WriteLine($"{Parallel} parallel registrations for one address: {mailed} mailed (limit {limit})");
        Assert.That(mailed, Is.LessThanOrEqualTo(limit));
        Assert.That(statuses.Count(s => s == HttpStatusCode.Redirect), Is.EqualTo(mailed));
    }

    [Test]
    public async Task TryTake_FiftyParallelTakes_GrantExactlyTheLimit()
    {
        var limits = _portal.Services.GetRequiredService<RateLimits>();
        var policy = new RateLimitPolicy("test", 7, TimeSpan.FromHours(1));
        using var start = new SemaphoreSlim(0);
        var takes = Enumerable.Range(0, Parallel).Select(async _ =>
        {
            await start.WaitAsync();
            return await limits.TryTakeAsync(policy, "key", CancellationToken.None);
        }).ToList();
        start.Release(Parallel);

        var granted = (await Task.WhenAll(takes)).Count(t => t);

        Assert.That(granted, Is.EqualTo(7));
        _portal.Time.Advance(TimeSpan.FromHours(1));
        Assert.That(await limits.TryTakeAsync(policy, "key", CancellationToken.None), Is.True, "a new window opens after the old one ends");
    }
}
