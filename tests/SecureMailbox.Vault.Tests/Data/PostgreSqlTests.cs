using System.Collections.Concurrent;
using System.Text;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Outbound;
using SecureMailbox.Vault.Tests.Support;

namespace SecureMailbox.Vault.Tests.Data;

/// <summary>The vault on a real PostgreSQL server (a private cluster for this fixture, a fresh database per test).</summary>
[TestFixture]
public sealed class PostgreSqlTests
{
    private const string Mime = "From: sven@org.example\r\nTo: anna@patient.example\r\nSubject: Svar\r\n\r\nHemligt innehåll\r\n";

    private PostgreSqlCluster _cluster = null!;
    private int _databases;

    [OneTimeSetUp]
    public async Task StartCluster() => _cluster = await PostgreSqlCluster.StartAsync();

    [OneTimeTearDown]
    public async Task StopCluster() => await _cluster.DisposeAsync();

    private async Task<VaultHost> StartVaultAsync() => await VaultHost.StartAsync(new Dictionary<string, string?>
    {
        ["Database:Provider"] = "PostgreSql",
        ["Database:ConnectionString"] = await _cluster.CreateDatabaseAsync($"vault{Interlocked.Increment(ref _databases)}"),
    });

    [Test]
    public async Task Start_EmptyDatabase_AppliesEveryPostgreSqlMigration()
    {
        await using var vault = await StartVaultAsync();

        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(db.Database.IsNpgsql(), Is.True);
        var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
        Assert.That(applied, Is.Not.Empty);
        Assert.That(applied, Is.EqualTo(db.Database.GetMigrations().ToList()));
        Assert.That(db.Model.GetRelationalModel().Tables.Select(t => t.Name), Does.Contain("OutboundMessages"));
        Assert.That(await db.Organisations.CountAsync(), Is.EqualTo(2), "the seeder ran on the migrated database");
    }

    [Test]
    public async Task StoreAsync_OnPostgreSql_TheRecipientReadsTheMessage()
    {
        await using var vault = await StartVaultAsync();

        var result = await vault.Get<VaultWriter>().StoreAsync(
            Guid.NewGuid(), "sven@org.example", [new RecipientRequest("anna@patient.example", "+46701234567")],
            new MessageMetadata { Subject = "Svar", Date = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.FromHours(1)) },
            (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(Mime), ct).AsTask(), null, CancellationToken.None);

        var reader = vault.Get<VaultReader>();
        var recipient = result.Readers.Single(r => !r.IsSender);
        using var link = await reader.UnlockLinkAsync(recipient.Token, CancellationToken.None);
        Assert.That(link?.Key, Is.Not.Null);
        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var message = await db.Messages.SingleAsync(m => m.Id == result.MessageId);
        Assert.That(message.CreatedAt.Kind, Is.EqualTo(DateTimeKind.Utc));
        var item = await db.MailboxItems.SingleAsync(i => i.AccountId == recipient.Account.Id);
        var metadata = await VaultReader.ReadMetadataAsync(item.EncryptedMetadata, link!.Key!, CancellationToken.None);
        Assert.That(metadata.Subject, Is.EqualTo("Svar"));
        await using var plaintext = reader.OpenMessage(message, item.Stanza, link.Key!);
        using var text = new StreamReader(plaintext, Encoding.UTF8);
        Assert.That(await text.ReadToEndAsync(), Does.Contain("Hemligt innehåll"));
    }

    [Test]
    public async Task LockAccountAsync_SecondTransaction_WaitsUntilTheFirstEnds()
    {
        await using var vault = await StartVaultAsync();
        var result = await vault.Get<VaultWriter>().StoreAsync(
            Guid.NewGuid(), "sven@org.example", [new RecipientRequest("anna@patient.example", "+46701234567")],
            new MessageMetadata { Subject = "Svar" }, (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(Mime), ct).AsTask(), null, CancellationToken.None);
        var accountId = result.Readers.Single(r => !r.IsSender).Account.Id;
        var factory = vault.Get<IDbContextFactory<VaultDbContext>>();
        await using var first = await factory.CreateDbContextAsync();
        await using var second = await factory.CreateDbContextAsync();
        await using var firstTransaction = await first.Database.BeginTransactionAsync();
        await first.Database.LockAccountAsync(accountId, CancellationToken.None);
        await using var secondTransaction = await second.Database.BeginTransactionAsync();

        var waiting = second.Database.LockAccountAsync(accountId, CancellationToken.None);
        await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(500)));
        Assert.That(waiting.IsCompleted, Is.False, "the second transaction got the account while the first held it");
        await firstTransaction.CommitAsync();

        Assert.That(await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(20))), Is.SameAs(waiting));
        await waiting;
        await secondTransaction.CommitAsync();
    }

    [Test]
    public async Task LeaseDueAsync_TwoConcurrentLeasers_NeverGetTheSameMessage()
    {
        await using var vault = await StartVaultAsync();
        var queue = vault.Get<OutboundQueue>();

        for (var round = 0; round < 25; round++)
        {
            var ids = new List<string>();
            for (var i = 0; i < 30; i++)
            {
                var message = NewMessage(queue);
                Assert.That(await queue.EnqueueAsync(message, CancellationToken.None), Is.True);
                ids.Add(message.Id);
            }
            var leased = new ConcurrentBag<OutboundMessage>();
            using var go = new ManualResetEventSlim();
            var leasers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                go.Wait();
                while (true)
                {
                    var batch = await queue.LeaseDueAsync(3, CancellationToken.None);
                    if (batch.Count == 0)
                    {
                        return;
                    }
                    foreach (var message in batch)
                    {
                        leased.Add(message);
                    }
                }
            })).ToList();
            go.Set();
            await Task.WhenAll(leasers);

            var leasedIds = leased.Select(m => m.Id).ToList();
            Assert.That(leasedIds, Is.Unique, $"round {round}: a message was leased twice");
            Assert.That(leasedIds, Is.EquivalentTo(ids), $"round {round}: every due message was leased once");
            await using (var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync())
            {
                // A lease taken over by the other worker would leave a token in the row that its holder does not have.
                var tokens = await db.OutboundMessages.Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, m => m.LeaseToken);
                Assert.That(leased.Where(m => tokens[m.Id] != m.LeaseToken).Select(m => m.Id), Is.Empty, $"round {round}: a lease was taken over");
            }
            await queue.CompleteAttemptsAsync(leased.Select(m => (Delivered(m), (string?)null)).ToList(), CancellationToken.None);
        }
        Assert.That(await queue.ListAsync(CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task LeaseDueAsync_RowLockedByAnotherInstance_SkipsItWithoutWaiting()
    {
        await using var vault = await StartVaultAsync();
        var queue = vault.Get<OutboundQueue>();
        var messages = Enumerable.Range(0, 3).Select(_ => NewMessage(queue)).ToList();
        foreach (var message in messages)
        {
            await queue.EnqueueAsync(message, CancellationToken.None);
        }
        await using var other = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        await using var otherLease = await other.Database.BeginTransactionAsync();
        var lockedId = messages[0].Id;
        await other.Database.ExecuteSqlAsync($"""SELECT "Id" FROM "OutboundMessages" WHERE "Id" = {lockedId} FOR UPDATE""");

        var lease = queue.LeaseDueAsync(10, CancellationToken.None);
        var finished = await Task.WhenAny(lease, Task.Delay(TimeSpan.FromSeconds(20)));

        Assert.That(finished, Is.SameAs(lease), "the lease waited for the other instance's lock");
        Assert.That((await lease).Select(m => m.Id), Is.EquivalentTo(messages.Skip(1).Select(m => m.Id)));
        await otherLease.RollbackAsync();
        Assert.That((await queue.LeaseDueAsync(10, CancellationToken.None)).Select(m => m.Id), Is.EqualTo(new[] { lockedId }));
    }

    [Test]
    public async Task CompleteAttemptAsync_TemporaryFailureThenDelivery_RetriesThenRemoves()
    {
        await using var vault = await StartVaultAsync();
        var queue = vault.Get<OutboundQueue>();
        var message = NewMessage(queue);
        await queue.EnqueueAsync(message, CancellationToken.None);

        var first = (await queue.LeaseDueAsync(10, CancellationToken.None)).Single();
        Assert.That(first.LeaseToken, Is.Not.Null);
        Assert.That(await queue.LeaseDueAsync(10, CancellationToken.None), Is.Empty, "leased already");
        first.Recipients[0].LastResponse = "451 4.3.0 " + new string('x', 5000);
        await queue.CompleteAttemptAsync(first, "451 try later " + new string('y', 5000), CancellationToken.None);

        var deferred = await queue.FindAsync(message.Id, CancellationToken.None);
        Assert.That(deferred!.Attempts, Is.EqualTo(1));
        Assert.That(deferred.LeaseToken, Is.Null);
        Assert.That(deferred.NextAttemptAt, Is.GreaterThan(DateTime.UtcNow));
        Assert.That(deferred.LastError, Has.Length.EqualTo(2048), "clipped to the column");
        Assert.That(await queue.LeaseDueAsync(10, CancellationToken.None), Is.Empty, "not due yet");

        Assert.That(await queue.RetryNowAsync(message.Id, CancellationToken.None), Is.EqualTo(1));
        var second = (await queue.LeaseDueAsync(10, CancellationToken.None)).Single();
        await queue.CompleteAttemptAsync(Delivered(second), null, CancellationToken.None);

        Assert.That((await queue.FindAsync(message.Id, CancellationToken.None))!.FinishedAt, Is.Not.Null, "recorded as finished");
        Assert.That(await queue.ListAsync(CancellationToken.None), Is.Empty);
    }

    private static OutboundMessage NewMessage(OutboundQueue queue)
    {
        var id = queue.NewId();
        return new OutboundMessage
        {
            Id = id,
            Kind = OutboundKind.Relay,
            EnvelopeFrom = "sven@org.example",
            ContentPath = id + ".eml",
            ContentLength = 10,
            Recipients = [new OutboundRecipient { Address = "anna@patient.example" }],
        };
    }

    private static OutboundMessage Delivered(OutboundMessage message)
    {
        foreach (var recipient in message.Recipients)
        {
            recipient.State = RecipientState.Delivered;
            recipient.LastResponse = "250 2.0.0 ok";
        }
        return message;
    }
}
