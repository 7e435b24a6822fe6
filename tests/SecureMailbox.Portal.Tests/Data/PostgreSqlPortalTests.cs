using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Tests.Support;

namespace SecureMailbox.Portal.Tests.Data;

/// <summary>The portal on a real PostgreSQL server (a private cluster for this fixture, a fresh database per test).</summary>
[TestFixture]
public sealed class PostgreSqlPortalTests
{
    private PostgreSqlCluster _cluster = null!;
    private int _databases;

    [OneTimeSetUp]
    public async Task StartCluster() => _cluster = await PostgreSqlCluster.StartAsync();

    [OneTimeTearDown]
    public async Task StopCluster() => await _cluster.DisposeAsync();

    private async Task<PortalFactory> StartPortalAsync() => new(new Dictionary<string, string?>
    {
        ["Database:Provider"] = "PostgreSql",
        ["Database:ConnectionString"] = await _cluster.CreateDatabaseAsync($"portal{Interlocked.Increment(ref _databases)}"),
    });

    [Test]
    public async Task Start_EmptyDatabase_MigratesBothContextsIntoIt()
    {
        using var portal = await StartPortalAsync();
        using var client = portal.Browser();

        await using var vault = await portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        await using var state = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.That(vault.Database.IsNpgsql(), Is.True);
        Assert.That(state, Is.InstanceOf<PostgreSqlPortalDbContext>());
        Assert.That(await vault.Database.GetPendingMigrationsAsync(), Is.Empty);
        Assert.That(await state.Database.GetPendingMigrationsAsync(), Is.Empty);
        Assert.That(await state.Database.GetAppliedMigrationsAsync(), Is.EqualTo(state.Database.GetMigrations()));
        Assert.That(state.Database.GetMigrations(), Is.Not.Empty.And.All.Not.EndsWith("_Registration"), "the PostgreSQL set, not the SQLite one");
        Assert.That(await state.SmsCodeRequests.CountAsync(), Is.Zero);
        Assert.That(File.Exists(Path.Combine(portal.Data.Path, "portal.db")), Is.False);
        Assert.That(File.Exists(Path.Combine(portal.Data.Path, "securemailbox.db")), Is.False);
    }

    [Test]
    public async Task Start_TwoInstancesOnOneEmptyDatabase_LogNoErrorAndSeedOnce()
    {
        var connection = await _cluster.CreateDatabaseAsync($"portal{Interlocked.Increment(ref _databases)}");
        var settings = new Dictionary<string, string?> { ["Database:Provider"] = "PostgreSql", ["Database:ConnectionString"] = connection };
        using var first = new PortalFactory(settings);
        using var second = new PortalFactory(settings);

        // Both hosts start at once, as the gateway and the portal do under ./run.sh.
        await Task.WhenAll(Task.Run(() => first.Services), Task.Run(() => second.Services));

        var complaints = first.Logs.Lines.Concat(second.Logs.Lines)
            .Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal))
            .ToList();
        Assert.That(complaints, Is.Empty, "a first start is quiet: no failed history-table read, no duplicate seed");
        await using var vault = await first.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await vault.Organisations.CountAsync(o => o.Name == "Region Test"), Is.EqualTo(1));
    }

    [Test]
    public async Task NewRecipient_LinkCodePassword_ReadsTheMessage()
    {
        using var portal = await StartPortalAsync();
        var (token, _) = await portal.StoreMessageAsync("Provsvar mars");
        using var client = portal.Browser();

        var messageUrl = await RecipientJourney.CreateAccountAsync(portal, client, token);
        Assert.That(messageUrl, Does.StartWith("/mailbox/m/"));

        var inbox = await client.PageAsync("/mailbox");
        Assert.That(BrowserSteps.Text(inbox.Html), Does.Contain("Provsvar mars"));
        var read = await client.PageAsync(messageUrl);
        Assert.That(read.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain(PortalFactory.BodySentence));

        using var client2 = portal.Browser();
        using var signIn = await RecipientJourney.SignInAsync(client2, PortalFactory.PatientAddress, RecipientJourney.Password);
        Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var again = await client2.PageAsync("/mailbox");
        Assert.That(BrowserSteps.Text(again.Html), Does.Contain("Provsvar mars"));
    }

    [Test]
    public async Task SignIn_AddressLongerThanTheRateKeyColumn_IsRefusedNotAnError()
    {
        using var portal = await StartPortalAsync();
        using var client = portal.Browser();

        using var response = await RecipientJourney.SignInAsync(client, new string('a', 200) + "@patient.example", "fel lösenord som är långt nog");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a refused sign-in, not a server error");
    }

    [TestCase("PostgreSql", null, "Database:ConnectionString")]
    [TestCase("SqlServer", null, "Database:Provider")]
    public void Start_HostileDatabaseSettings_FailsNamingTheSetting(string provider, string? connectionString, string setting)
    {
        using var portal = new PortalFactory(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["Database:ConnectionString"] = connectionString,
        });

        var exception = Assert.Catch(() => portal.Browser());

        Assert.That(exception!.ToString(), Does.Contain(setting));
    }
    [Test]
    public async Task TryTake_FiftyParallelTakes_GrantExactlyTheLimit()
    {
        using var portal = await StartPortalAsync();
        var limits = portal.Services.GetRequiredService<SecureMailbox.Portal.Security.RateLimits>();
        var policy = new SecureMailbox.Portal.Security.RateLimitPolicy("test", 7, TimeSpan.FromHours(1));
        using var start = new SemaphoreSlim(0);
        var takes = Enumerable.Range(0, 50).Select(async _ =>
        {
            await start.WaitAsync();
            return await limits.TryTakeAsync(policy, "key", CancellationToken.None);
        }).ToList();
        start.Release(50);

        var granted = (await Task.WhenAll(takes)).Count(t => t);

        TestContext.Out.WriteLine($"PostgreSQL: 50 parallel takes of a limit of 7 granted {granted}");
        Assert.That(granted, Is.EqualTo(7));
        portal.Time.Advance(TimeSpan.FromHours(1));
        Assert.That(await limits.TryTakeAsync(policy, "key", CancellationToken.None), Is.True, "a new window opens after the old one ends");
    }

    [Test]
    public async Task CheckCode_FiftyParallelWrongCodes_AtMostFiveChecked()
    {
        using var portal = await StartPortalAsync();
        var (token, _) = await portal.StoreMessageAsync("Ämne");
        using var client = portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);
        var (_, html) = await RecipientJourney.SendCodeAsync(client, verify);
        var code = portal.LatestSmsCode();
        var wrong = code == "000000" ? "111111" : "000000";
        using var start = new SemaphoreSlim(0);
        var checks = Enumerable.Range(0, 50).Select(async _ =>
        {
            await start.WaitAsync();
            using var response = await RecipientJourney.CheckCodeAsync(client, html, wrong);
        }).ToList();
        start.Release(50);
        await Task.WhenAll(checks);

        using var right = await RecipientJourney.CheckCodeAsync(client, html, code);

        var checkedCodes = portal.Logs.Lines.Count(l => l.Contains("Wrong SMS code", StringComparison.Ordinal));
        TestContext.Out.WriteLine($"PostgreSQL: 50 parallel wrong SMS codes, {checkedCodes} checked; the right one after: {right.StatusCode}");
        Assert.That(checkedCodes, Is.LessThanOrEqualTo(5));
        Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }
}
