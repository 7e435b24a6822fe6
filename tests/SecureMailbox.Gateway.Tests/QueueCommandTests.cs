using System.Net;
using System.Net.Sockets;
using SecureMailbox.Gateway.Admin;
using SecureMailbox.Gateway.Tests.Support;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The operator's queue commands against a gateway whose next hop is down, so the message stays queued.</summary>
[TestFixture]
public sealed class QueueCommandTests
{
    private TempDirectory _data = null!;
    private TestGateway _gateway = null!;
    private string _id = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _data = new TempDirectory();
        _gateway = await TestGateway.StartAsync(_data.Path, TestGateway.DefaultSettings(_data.Path, UnusedPort()));
        await RawSmtpTransaction.SendWithMailKitAsync(_gateway.Endpoint, RawSmtpTransaction.Message("waiting in the queue"));
        OutboundMessage? queued = null;
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() =>
        {
            queued = _gateway.Queue.ListAsync(CancellationToken.None).Result.SingleOrDefault();
            return queued is { Attempts: >= 1 };
        }, TimeSpan.FromSeconds(20)), Is.True, "the message was tried and stayed queued");
        _id = queued!.Id;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _data.Dispose();
    }

    internal static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await QueueCommand.RunAsync(args, _gateway.Services, output, CancellationToken.None);
        return (exit, output.ToString());
    }

    [Test]
    public async Task List_OneQueuedMessage_ShowsItWithItsPendingRecipient()
    {
        var (exit, output) = await RunAsync("queue", "list");

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain(_id));
        Assert.That(output, Does.Contain("<sender@org.example>"));
        Assert.That(output, Does.Contain("    <rita@elsewhere.example> 451"));
        Assert.That(output, Does.Contain("1 message(s) in the queue"));
        Assert.That(output, Does.Match(@"\n    (deferred until \d{4}-|due now|being delivered by \S+/[0-9a-f]+, lease until )"), "what the item waits for, and who holds it");
    }

    [Test]
    public async Task Show_QueuedId_PrintsTheItem()
    {
        var (exit, output) = await RunAsync("queue", "show", _id);

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain($"id: {_id}\n"));
        Assert.That(output, Does.Contain("kind: Relay"));
        Assert.That(output, Does.Contain("recipient: <rita@elsewhere.example> Pending 451"));
        Assert.That(output, Does.Contain("last error: 451 4.4.1"));
    }

    [Test]
    public async Task Show_UnknownId_Exits1()
    {
        var (exit, output) = await RunAsync("queue", "show", "nosuchid");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain("queue: no item nosuchid"));
    }

    [Test]
    public async Task Retry_QueuedId_MakesItDueNow()
    {
        var (exit, output) = await RunAsync("queue", "retry", _id);

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain("1 item(s) released (lease and hold) and due now"));
        var item = await _gateway.Queue.FindAsync(_id, CancellationToken.None);
        Assert.That(item!.NextAttemptAt, Is.LessThanOrEqualTo(DateTime.UtcNow.AddSeconds(2)));
    }

    [Test]
    public async Task Retry_UnknownId_Exits1()
    {
        var (exit, output) = await RunAsync("queue", "retry", "nosuchid");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain("0 item(s)"));
    }

    [Test]
    public async Task Delete_UnknownId_Exits1()
    {
        var (exit, output) = await RunAsync("queue", "delete", "nosuchid");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain("queue: no item nosuchid"));
    }

    [TestCase("frobnicate")]
    [TestCase("show")]
    [TestCase("delete")]
    public async Task Run_BadVerbOrMissingId_PrintsUsageAndExits2(string verb)
    {
        var (exit, output) = await RunAsync("queue", verb);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output, Does.StartWith("usage: "));
    }

    [Test]
    public async Task Delete_QueuedId_RemovesTheRowAndTheContentFile()
    {
        await RawSmtpTransaction.SendWithMailKitAsync(_gateway.Endpoint, RawSmtpTransaction.Message("to be deleted"));
        OutboundMessage? queued = null;
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() =>
        {
            queued = _gateway.Queue.ListAsync(CancellationToken.None).Result.SingleOrDefault(m => m.Id != _id);
            return queued is not null;
        }, TimeSpan.FromSeconds(20)), Is.True);
        var id = queued!.Id;
        var content = _gateway.Queue.ContentPathOf(id + ".eml");
        Assert.That(File.Exists(content), Is.True, "precondition: the content file exists");

        var (exit, output) = await RunAsync("queue", "delete", id);

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain($"deleted {id}"));
        Assert.That(await _gateway.Queue.FindAsync(id, CancellationToken.None), Is.Null);
        Assert.That(File.Exists(content), Is.False);
        var (_, list) = await RunAsync("queue", "list");
        Assert.That(list, Does.Not.Contain(id));
    }
}
