using System.Diagnostics;
using System.Net;
using SecureMailbox.Portal.Tests.Support;

namespace SecureMailbox.Portal.Tests.Security;

/// <summary>
/// Every flow that takes an address answers after the same time for an address with an account and one without
/// (docs/rules.md A12): 30 samples of each, interleaved so that machine noise hits both alike, medians within 20 %.
/// </summary>
[TestFixture]
public sealed class EvenTimingTests
{
    private const int Samples = 30;

    private PortalFactory _portal = null!;
    private HttpClient _client = null!;

    [SetUp]
    public async Task Start()
    {
        _portal = new PortalFactory(new Dictionary<string, string?> { ["Timing:AddressFlowFloor"] = "00:00:00.400" });
        (await AccountSecurityJourney.SignedInAsync(_portal)).Dispose();
        _client = _portal.Browser();
    }

    [TearDown]
    public void Stop()
    {
        _client.Dispose();
        _portal.Dispose();
    }

    private async Task CompareAsync(string flow, Func<string, int, Task<HttpResponseMessage>> post)
    {
        var known = new List<double>();
        var unknown = new List<double>();
        HttpStatusCode? knownStatus = null, unknownStatus = null;
        for (var i = 0; i < Samples; i++)
        {
            // A new rate-limit window each round: every sample takes the ordinary path, none the throttled one.
            _portal.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
            (unknownStatus, var u) = await TimeAsync(() => post($"nobody{i}@patient.example", i));
            (knownStatus, var k) = await TimeAsync(() => post(PortalFactory.PatientAddress, i));
            unknown.Add(u);
            known.Add(k);
        }
        var (knownMedian, unknownMedian) = (Median(known), Median(unknown));
        TestContext.Out.WriteLine($"{flow}: known {knownMedian:F1} ms (p10 {Percentile(known, 10):F1}, p90 {Percentile(known, 90):F1}), " +
            $"unknown {unknownMedian:F1} ms (p10 {Percentile(unknown, 10):F1}, p90 {Percentile(unknown, 90):F1}), {Samples} samples each");
        Assert.That(knownStatus, Is.EqualTo(unknownStatus), "the same answer");
        Assert.That(Math.Abs(knownMedian - unknownMedian) / Math.Min(knownMedian, unknownMedian), Is.LessThan(0.2),
            $"{flow}: known {knownMedian:F1} ms vs unknown {unknownMedian:F1} ms");
    }

    private static async Task<(HttpStatusCode, double)> TimeAsync(Func<Task<HttpResponseMessage>> request)
    {
        var watch = Stopwatch.StartNew();
        using var response = await request();
        return (response.StatusCode, watch.Elapsed.TotalMilliseconds);
    }

    private static double Median(List<double> values) => Percentile(values, 50);

    private static double Percentile(List<double> values, int percent) => values.Order().ElementAt(Math.Min(values.Count - 1, values.Count * percent / 100));

    [Test]
    public async Task SignIn_KnownAndUnknownAddress_AnswerAfterTheSameTime()
    {
        var page = await _client.PageAsync("/signin");
        await CompareAsync("sign-in", (email, i) => _client.PostFormAsync("/signin", page.Html, ("email", email), ("password", "fel lösenord " + i), ("returnUrl", "/mailbox")));
    }

    [Test]
    public async Task ForgotPassword_KnownAndUnknownAddress_AnswerAfterTheSameTime()
    {
        var page = await _client.PageAsync("/signin/forgot");
        await CompareAsync("forgot password", (email, _) => _client.PostFormAsync("/signin/forgot", page.Html, ("email", email)));
    }

    [Test]
    public async Task Register_KnownAndUnknownAddress_AnswerAfterTheSameTime()
    {
        var page = await _client.PageAsync("/register");
        await CompareAsync("registration", (email, _) => _client.PostFormAsync("/register", page.Html, ("email", email), ("phone", PortalFactory.PatientPhone)));
    }

    [Test]
    public async Task LostAuthenticator_KnownAndUnknownAddress_AnswerAfterTheSameTime()
    {
        var page = await _client.PageAsync("/signin/lost-authenticator");
        await CompareAsync("lost authenticator", (email, i) => _client.PostFormAsync("/signin/lost-authenticator", page.Html, ("email", email), ("password", "fel lösenord " + i)));
    }
}
