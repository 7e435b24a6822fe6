namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>
/// A fixture with one real gateway (in-process, loopback, its own data folder) relaying to one next hop, shared by
/// the tests of the fixture. Derived fixtures adjust the settings in <see cref="Configure"/>.
/// </summary>
public abstract class GatewayFixture
{
    protected TempDirectory Data { get; private set; } = null!;

    protected NextHopServer NextHop { get; private set; } = null!;

    protected TestGateway Gateway { get; private set; } = null!;

    /// <summary>Changes the default test settings before the gateway starts.</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    [OneTimeSetUp]
    public async Task StartGatewayAsync()
    {
        Data = new TempDirectory();
        NextHop = new NextHopServer();
        await NextHop.StartAsync();
        var settings = TestGateway.DefaultSettings(Data.Path, NextHop.Port);
        Configure(settings);
        Gateway = await TestGateway.StartAsync(Data.Path, settings);
    }

    [OneTimeTearDown]
    public async Task StopGatewayAsync()
    {
        await Gateway.DisposeAsync();
        await NextHop.DisposeAsync();
        Data.Dispose();
    }

    [SetUp]
    public void ResetNextHop()
    {
        NextHop.Messages.Clear();
        NextHop.Mode = NextHopMode.Accept;
    }
}
