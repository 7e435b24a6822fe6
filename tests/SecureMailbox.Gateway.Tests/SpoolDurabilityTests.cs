using System.Text;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>What the spool does when storing is impossible or was interrupted (docs/rules.md D2, D3, D5). Each test has its own gateway.</summary>
[TestFixture]
public sealed class SpoolDurabilityTests
{
    private TempDirectory _data = null!;
    private NextHopServer _nextHop = null!;

    [SetUp]
    public async Task StartNextHopAsync()
    {
        _data = new TempDirectory();
        _nextHop = new NextHopServer();
        await _nextHop.StartAsync();
    }

    [TearDown]
    public async Task StopNextHopAsync()
    {
        await _nextHop.DisposeAsync();
        _data.Dispose();
    }

    private static async Task<RawSmtpClient> ConnectAsync(TestGateway gateway)
    {
        var client = await RawSmtpClient.ConnectAsync(gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));
        return client;
    }

    [Test]
    public async Task Start_StaleFileInSpoolTmp_IsDiscardedAndNeverRelayed()
    {
        var temporary = Path.Combine(_data.Path, "spool", "tmp");
        Directory.CreateDirectory(temporary);
        var stale = Path.Combine(temporary, "20260101000000000aabbccddeeff");
        await File.WriteAllTextAsync(stale, "Received: from x\r\nFrom: <sender@org.example>\r\nSubject: never acknowledged\r\n\r\nhalf a mess");

        await using var gateway = await TestGateway.StartAsync(_data.Path, TestGateway.DefaultSettings(_data.Path, _nextHop.Port));

        Assert.That(File.Exists(stale), Is.False, "discarded at start");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.That(_nextHop.Messages, Is.Empty);
        Assert.That(await gateway.Queue.ListAsync(CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task EndOfData_SpoolCannotBeWritten_Answers451AndRecoversWhenItCan()
    {
        await using var gateway = await TestGateway.StartAsync(_data.Path, TestGateway.DefaultSettings(_data.Path, _nextHop.Port));
        var ready = Path.Combine(_data.Path, "spool", "new");
        // Root ignores permissions, so make the commit's rename fail for real: spool/new becomes a regular file.
        Directory.Delete(ready);
        await File.WriteAllTextAsync(ready, "not a folder");
        using var client = await ConnectAsync(gateway);
        string reply;
        try
        {
            reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", RawSmtpTransaction.SimpleData("cannot be stored"));
        }
        finally
        {
            File.Delete(ready);
            Directory.CreateDirectory(ready);
        }

        Assert.That(reply, Does.StartWith("451 4.3.0"), "a storage failure is temporary: never 250, never 5xx");
        Assert.That(RawSmtpTransaction.FilesIn(Path.Combine(_data.Path, "spool", "tmp")), Is.Empty);
        var next = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", RawSmtpTransaction.SimpleData("stored after the repair"));
        Assert.That(next, Does.StartWith("250"));
        await _nextHop.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.That(_nextHop.Messages, Has.Count.EqualTo(1));
        Assert.That(Encoding.ASCII.GetString(_nextHop.Messages.Single().Data), Does.Contain("Subject: stored after the repair"));
    }

    [Test]
    public async Task EndOfData_SpoolTmpCannotBeWritten_Answers451AndRecoversWhenItCan()
    {
        await using var gateway = await TestGateway.StartAsync(_data.Path, TestGateway.DefaultSettings(_data.Path, _nextHop.Port));
        var temporary = Path.Combine(_data.Path, "spool", "tmp");
        // The capture file cannot even be created: spool/tmp becomes a regular file.
        Directory.Delete(temporary);
        await File.WriteAllTextAsync(temporary, "not a folder");
        using var client = await ConnectAsync(gateway);
        string reply;
        try
        {
            reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", RawSmtpTransaction.SimpleData("no room to receive"));
        }
        finally
        {
            File.Delete(temporary);
            Directory.CreateDirectory(temporary);
        }

        Assert.That(reply, Does.StartWith("451 4.3.0"), "a storage failure is temporary: never 250, never 5xx");
        var next = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", RawSmtpTransaction.SimpleData("received after the repair"));
        Assert.That(next, Does.StartWith("250"));
        await _nextHop.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.That(_nextHop.Messages, Has.Count.EqualTo(1));
        Assert.That(Encoding.ASCII.GetString(_nextHop.Messages.Single().Data), Does.Contain("Subject: received after the repair"));
    }

    [Test]
    public async Task Mail_FreeSpaceBelowTheRequiredFactor_Answers452()
    {
        var settings = TestGateway.DefaultSettings(_data.Path, _nextHop.Port);
        settings["Smtp:MinimumFreeSpaceFactor"] = "1e15"; // 150 MB x 10^15: no disk has that much
        await using var gateway = await TestGateway.StartAsync(_data.Path, settings);
        using var client = await ConnectAsync(gateway);

        var mail = await client.CommandAsync("MAIL FROM:<sender@org.example>");

        Assert.That(mail, Does.StartWith("452 4.3.1"));
    }
}
