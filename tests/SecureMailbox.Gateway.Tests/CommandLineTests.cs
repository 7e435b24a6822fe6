using System.Net;
using System.Net.Sockets;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The gateway's command line and start-up failures, through the real process (docs/operators.md: exit codes).</summary>
[TestFixture]
public sealed class CommandLineTests
{
    private TempDirectory _data = null!;

    [SetUp]
    public void CreateData() => _data = new TempDirectory();

    [TearDown]
    public void RemoveData() => _data.Dispose();

    private Task<(int Exit, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        GatewayProcess.RunToExitAsync(_data.Path, environment, args);

    [Test]
    public async Task Help_PrintsUsageAndExits0WithoutStarting()
    {
        var (exit, stdout, _) = await RunAsync(new Dictionary<string, string>(), "--help");

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(stdout, Does.StartWith("usage: "));
        Assert.That(stdout, Does.Not.Contain("SMTP listening"));
    }

    [Test]
    public async Task Version_PrintsTheVersionAndExits0()
    {
        var (exit, stdout, _) = await RunAsync(new Dictionary<string, string>(), "--version");

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(stdout, Does.StartWith("SecureMailbox.Gateway "));
    }

    [TestCase("--frobnicate")]
    [TestCase("start")]
    public async Task UnknownArgument_IsRefusedWithExit2(string argument)
    {
        var (exit, stdout, stderr) = await RunAsync(new Dictionary<string, string>(), argument);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain($"unknown argument '{argument}'"));
        Assert.That(stdout, Does.Not.Contain("SMTP listening"));
    }

    [Test]
    public async Task ConfigurationError_OneLineNamingTheSettingExit3NoStackTrace()
    {
        var (exit, stdout, stderr) = await RunAsync(new Dictionary<string, string> { ["Database__Provider"] = "PostgreSql" });

        Assert.That(exit, Is.EqualTo(3));
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(stderr, Does.Contain("Database:ConnectionString"));
        Assert.That(stdout + stderr, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public async Task PortInUse_StopsWithExit4AndOneLineNamingTheSettings()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, stdout, stderr) = await RunAsync(new Dictionary<string, string> { ["Smtp__Port"] = port });

        Assert.That(exit, Is.EqualTo(4));
        var lines = (stdout + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("Smtp:Port", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.Contain("Smtp:ListenAddress 127.0.0.1").And.Contain($"Smtp:Port {port}").And.Contain("in use"));
        Assert.That(stdout + stderr, Does.Not.Contain("   at "), "no stack trace");
    }
}
