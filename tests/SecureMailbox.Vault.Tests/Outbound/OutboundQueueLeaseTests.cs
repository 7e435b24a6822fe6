using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Outbound;
using SecureMailbox.Vault.Tests.Support;

namespace SecureMailbox.Vault.Tests.Outbound;

/// <summary>
/// Queue leases on a real SQLite file, two instances sharing it, time moved by a fake clock: a lease
/// names its holder, lives while renewed, dies quickly with its holder, and the operator's retry releases it.
/// </summary>
[TestFixture]
public sealed class OutboundQueueLeaseTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private VaultHost _vault = null!;
    private FakeTimeProvider _time = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _vault = await VaultHost.StartAsync();
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
    }

    [TearDown]
    public async Task StopAsync() => await _vault.DisposeAsync();

    private OutboundQueue Queue(string instanceId, QueueInstance? instance = null)
    {
        var options = Options.Create(new QueueOptions { InstanceId = instanceId, LeaseDuration = Lease });
        return new OutboundQueue(_vault.Get<IDbContextFactory<VaultDbContext>>(), _vault.Get<IOptions<VaultOptions>>(), options,
            instance ?? new QueueInstance(options), _time, _vault.Get<AddressMasking>(), NullLogger<OutboundQueue>.Instance);
    }

    private static async Task<OutboundMessage> EnqueueAsync(OutboundQueue queue)
    {
        var id = queue.NewId();
        var name = await queue.WriteContentAsync(id, (s, ct) => s.WriteAsync("Subject: x\r\n\r\nbody\r\n"u8.ToArray(), ct).AsTask(), CancellationToken.None);
        var message = new OutboundMessage
        {
            Id = id,
            EnvelopeFrom = "sven@org.example",
            ContentPath = name,
            ContentLength = 20,
            Recipients = [new OutboundRecipient { Address = "anna@patient.example" }],
        };
        Assert.That(await queue.EnqueueAsync(message, CancellationToken.None), Is.True);
        return message;
    }

    [Test]
    public async Task LeaseDueAsync_Leased_RowNamesInstanceAndStart()
    {
        var a = Queue("gateway-a");
        var message = await EnqueueAsync(a);

        var leased = (await a.LeaseDueAsync(10, CancellationToken.None)).Single();

        var row = await a.FindAsync(message.Id, CancellationToken.None);
        var instance = new QueueInstance(Options.Create(new QueueOptions { InstanceId = "gateway-a" }));
        Assert.That(row!.LeaseOwner, Is.EqualTo("gateway-a"));
        Assert.That(row.LeaseStartId, Is.EqualTo(leased.LeaseStartId).And.Not.Null);
        Assert.That(row.LeaseExpiresAt, Is.EqualTo(_time.GetUtcNow().UtcDateTime + Lease).Within(TimeSpan.FromSeconds(1)));
        Assert.That(instance.StartId, Is.Not.EqualTo(row.LeaseStartId), "every start has its own id");
    }

    [Test]
    public async Task LeaseDueAsync_HolderDiedWithoutRenewing_AnotherInstanceTakesOverAfterOneLeaseDuration()
    {
        var a = Queue("gateway-a");
        var b = Queue("gateway-b");
        var message = await EnqueueAsync(a);
        Assert.That(await a.LeaseDueAsync(10, CancellationToken.None), Has.Count.EqualTo(1));

        _time.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.That(await b.LeaseDueAsync(10, CancellationToken.None), Is.Empty, "still held");
        _time.Advance(TimeSpan.FromSeconds(2));

        var taken = await b.LeaseDueAsync(10, CancellationToken.None);
        Assert.That(taken.Select(m => m.Id), Is.EqualTo(new[] { message.Id }));
        Assert.That((await b.FindAsync(message.Id, CancellationToken.None))!.LeaseOwner, Is.EqualTo("gateway-b"));
    }

    [Test]
    public async Task RenewLeasesAsync_HolderAlive_LeaseOutlivesItsDuration()
    {
        var a = Queue("gateway-a");
        var b = Queue("gateway-b");
        await EnqueueAsync(a);
        await a.LeaseDueAsync(10, CancellationToken.None);

        for (var beat = 0; beat < 6; beat++)
        {
            _time.Advance(Lease / 3);
            Assert.That(await a.RenewLeasesAsync(CancellationToken.None), Is.EqualTo(1));
        }

        Assert.That(await b.LeaseDueAsync(10, CancellationToken.None), Is.Empty, "a renewed lease is not taken over");
    }

    [Test]
    public async Task RenewLeasesAsync_OtherInstancesLeases_AreNotRenewed()
    {
        var a = Queue("gateway-a");
        var b = Queue("gateway-b");
        await EnqueueAsync(a);
        await a.LeaseDueAsync(10, CancellationToken.None);

        Assert.That(await b.RenewLeasesAsync(CancellationToken.None), Is.Zero);
    }

    [Test]
    public async Task ReleaseEarlierLeasesAsync_SameInstanceRestarted_FreesTheDeadStartsLeasesAtOnce()
    {
        var before = Queue("gateway-a");
        var other = Queue("gateway-b");
        var mine = await EnqueueAsync(before);
        await before.LeaseDueAsync(10, CancellationToken.None);
        var theirs = await EnqueueAsync(other);
        await other.LeaseDueAsync(10, CancellationToken.None);

        var restarted = Queue("gateway-a");
        Assert.That(await restarted.ReleaseEarlierLeasesAsync(CancellationToken.None), Is.EqualTo(1));

        var leased = await restarted.LeaseDueAsync(10, CancellationToken.None);
        Assert.That(leased.Select(m => m.Id), Is.EqualTo(new[] { mine.Id }), "its own dead lease at once, the live other instance's not");
        Assert.That((await restarted.FindAsync(theirs.Id, CancellationToken.None))!.LeaseOwner, Is.EqualTo("gateway-b"));
    }

    [Test]
    public async Task RetryNowAsync_LeasedItem_ReleasesTheLeaseSoItIsDeliveredNow()
    {
        var a = Queue("gateway-a");
        var b = Queue("gateway-b");
        var message = await EnqueueAsync(a);
        await a.LeaseDueAsync(10, CancellationToken.None);

        Assert.That(await b.RetryNowAsync(null, CancellationToken.None), Is.EqualTo(1));

        var row = await b.FindAsync(message.Id, CancellationToken.None);
        Assert.That(row!.LeaseToken, Is.Null);
        Assert.That(row.LeaseOwner, Is.Null);
        Assert.That((await b.LeaseDueAsync(10, CancellationToken.None)).Select(m => m.Id), Is.EqualTo(new[] { message.Id }));
    }

    [Test]
    public async Task CompleteAttemptsAsync_Delivered_RecordsTheDeliveryThenRemovesTheContent()
    {
        var a = Queue("gateway-a");
        var message = await EnqueueAsync(a);
        var leased = (await a.LeaseDueAsync(10, CancellationToken.None)).Single();
        leased.Recipients[0].State = RecipientState.Delivered;

        await a.CompleteAttemptAsync(leased, null, CancellationToken.None);

        var row = await a.FindAsync(message.Id, CancellationToken.None);
        Assert.That(row!.FinishedAt, Is.Not.Null, "the record of the delivery outlives the content");
        Assert.That(File.Exists(a.ContentPathOf(message.ContentPath)), Is.False);
        Assert.That(await a.ListAsync(CancellationToken.None), Is.Empty);
        Assert.That(await a.LeaseDueAsync(10, CancellationToken.None), Is.Empty);

        _time.Advance(TimeSpan.FromHours(2));
        Assert.That(await a.SweepFinishedAsync(CancellationToken.None), Is.EqualTo(1));
        Assert.That(await a.FindAsync(message.Id, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task SweepFinishedAsync_CrashBetweenRecordAndRemoval_RemovesTheLeftoverContent()
    {
        var a = Queue("gateway-a");
        var message = await EnqueueAsync(a);
        await using (var db = await _vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync())
        {
            await db.OutboundMessages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.FinishedAt, _time.GetUtcNow().UtcDateTime));
        }

        await a.SweepFinishedAsync(CancellationToken.None);

        Assert.That(File.Exists(a.ContentPathOf(message.ContentPath)), Is.False);
        Assert.That(await a.FindAsync(message.Id, CancellationToken.None), Is.Not.Null, "kept until Queue:FinishedRetention");
    }

    [Test]
    public async Task CompleteAttemptsAsync_Held_StaysListedNotLeasedUntilRetry()
    {
        var a = Queue("gateway-a");
        var message = await EnqueueAsync(a);
        var leased = (await a.LeaseDueAsync(10, CancellationToken.None)).Single();
        leased.HeldAt = _time.GetUtcNow().UtcDateTime;

        await a.CompleteAttemptAsync(leased, "554 5.7.1 Relay access denied", CancellationToken.None);

        var listed = (await a.ListAsync(CancellationToken.None)).Single();
        Assert.That(listed.HeldAt, Is.Not.Null);
        Assert.That(listed.Recipients.Single().State, Is.EqualTo(RecipientState.Pending));
        _time.Advance(TimeSpan.FromDays(1));
        Assert.That(await a.LeaseDueAsync(10, CancellationToken.None), Is.Empty, "held, not retried");
        Assert.That(await a.RetryNowAsync(message.Id, CancellationToken.None), Is.EqualTo(1));
        Assert.That(await a.LeaseDueAsync(10, CancellationToken.None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task EnqueueManyAsync_IdAlreadyFinished_IsNotQueuedAgain()
    {
        var a = Queue("gateway-a");
        var message = await EnqueueAsync(a);
        var leased = (await a.LeaseDueAsync(10, CancellationToken.None)).Single();
        leased.Recipients[0].State = RecipientState.Delivered;
        await a.CompleteAttemptAsync(leased, null, CancellationToken.None);

        var again = await a.EnqueueManyAsync([new OutboundMessage { Id = message.Id, ContentPath = message.ContentPath, Recipients = [new OutboundRecipient { Address = "anna@patient.example" }] }], CancellationToken.None);

        Assert.That(again, Is.Zero, "a recovery scan that raced with the delivery cannot queue it again");
    }
}
