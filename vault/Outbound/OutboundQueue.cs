using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Vault.Outbound;

/// <summary>
/// The durable outbound queue shared by the gateway (relay, notifications, bounces) and the portal
/// (reply notifications). Rows live in the database; content files in <c>queue/</c> of the data folder.
/// Workers lease due messages so that several instances never deliver the same message at once.
/// </summary>
public sealed class OutboundQueue(
    IDbContextFactory<VaultDbContext> dbFactory,
    IOptions<VaultOptions> vaultOptions,
    IOptions<QueueOptions> queueOptions,
    QueueInstance instance,
    TimeProvider time,
    AddressMasking masking,
    ILogger<OutboundQueue> logger)
{
    private readonly QueueOptions _options = queueOptions.Value;

    /// <summary>The folder that holds queued message content.</summary>
    public string ContentDirectory { get; } = Path.Combine(vaultOptions.Value.DataPath, "queue");

    /// <summary>Creates a new queue id: sortable by time, unique across instances.</summary>
    public string NewId() => $"{time.GetUtcNow():yyyyMMddHHmmss}{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}";

    /// <summary>Writes message content durably to the queue folder and returns its file name there.</summary>
    public async Task<string> WriteContentAsync(string id, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var name = id + ".eml";
        await DurableFile.WriteAsync(ContentPathOf(name), write, cancellationToken);
        return name;
    }

    /// <summary>The full path of a content file named in a queue row.</summary>
    public string ContentPathOf(string contentName) => Path.Combine(ContentDirectory, Path.GetFileName(contentName));

    /// <summary>
    /// Adds a message whose content file is already durable. Idempotent on the id: a message queued
    /// before a crash is not queued twice when its source is processed again.
    /// </summary>
    /// <returns>false when a message with that id was already queued.</returns>
    public async Task<bool> EnqueueAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Recipients.Count == 0)
        {
            throw new ArgumentException("An outbound message needs at least one recipient.", nameof(message));
        }
        var now = time.GetUtcNow().UtcDateTime;
        message.CreatedAt = now;
        message.NextAttemptAt = now;
        if (message.ExpiresAt == default)
        {
            message.ExpiresAt = now + _options.MaxLifetime;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.OutboundMessages.AnyAsync(m => m.Id == message.Id, cancellationToken))
        {
            return false;
        }
        db.OutboundMessages.Add(message);
        await db.SaveChangesAsync(cancellationToken);
        Notify();
        logger.LogInformation("Queued {QueueId} ({Kind}, {Size} bytes, {Recipients} recipients)", message.Id, message.Kind, message.ContentLength, message.Recipients.Count);
        return true;
    }

    /// <summary>Adds several messages in one transaction (one commit, one fsync); ids already queued are skipped.</summary>
    public async Task<int> EnqueueManyAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            return 0;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = messages.Select(m => m.Id).ToList();
        var existing = (await db.OutboundMessages.Where(m => ids.Contains(m.Id)).Select(m => m.Id).ToListAsync(cancellationToken)).ToHashSet();
        var added = 0;
        foreach (var message in messages.Where(m => !existing.Contains(m.Id)))
        {
            Stage(db, message);
            added++;
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (messages.Count > 1 || added > 0)
        {
            // Another writer queued one of these ids meanwhile (an instance recovering orphans from the shared data
            // folder): queue them one by one, each idempotent on its id.
            added = 0;
            foreach (var message in messages)
            {
                try
                {
                    added += await EnqueueAsync(Fresh(message), cancellationToken) ? 1 : 0;
                }
                catch (DbUpdateException)
                {
                }
            }
            return added;
        }
        if (added > 0)
        {
            Notify();
            logger.LogInformation("Queued {Count} messages", added);
        }
        return added;
    }

    // A copy without the tracking state a failed SaveChanges left on the entities.
    private static OutboundMessage Fresh(OutboundMessage m) => new()
    {
        Id = m.Id, Kind = m.Kind, EnvelopeFrom = m.EnvelopeFrom, EnvelopeId = m.EnvelopeId, Ret = m.Ret, EightBitMime = m.EightBitMime,
        ContentPath = m.ContentPath, ContentOffset = m.ContentOffset, ContentLength = m.ContentLength, ExpiresAt = m.ExpiresAt,
        Recipients = m.Recipients.Select(r => new OutboundRecipient { Address = r.Address }).ToList(),
    };

    private readonly System.Threading.Channels.Channel<bool> _work = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });

    /// <summary>Wakes a worker in this process (workers in other processes find new rows by polling).</summary>
    public void Notify() => _work.Writer.TryWrite(true);

    /// <summary>Waits until something was queued in this process, or the timeout passes.</summary>
    public async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await _work.Reader.ReadAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Adds a message (content already durable) to a unit of work the caller commits, so that the message and what
    /// it depends on (a stored secure message) become durable together.
    /// </summary>
    public void Stage(VaultDbContext db, OutboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(message);
        var now = time.GetUtcNow().UtcDateTime;
        message.CreatedAt = now;
        message.NextAttemptAt = now;
        if (message.ExpiresAt == default)
        {
            message.ExpiresAt = now + _options.MaxLifetime;
        }
        db.OutboundMessages.Add(message);
    }

    /// <summary>Leases up to <paramref name="max"/> due messages for this instance (see <see cref="QueueInstance"/>).</summary>
    public async Task<IReadOnlyList<OutboundMessage>> LeaseDueAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var token = Guid.NewGuid().ToString("N");
        var until = now + _options.LeaseDuration;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var claimed = db.Database.IsNpgsql()
            ? await LeaseOnPostgreSqlAsync(db, token, instance, now, until, max, cancellationToken)
            : await LeaseOnSqliteAsync(db, token, instance, now, until, max, cancellationToken);
        if (claimed == 0)
        {
            return [];
        }
        return await db.OutboundMessages.AsNoTracking().Include(m => m.Recipients)
            .Where(m => m.LeaseToken == token).ToListAsync(cancellationToken);
    }

    // SQLite: one UPDATE claims the batch; the database lets one writer at a time in.
    private static Task<int> LeaseOnSqliteAsync(VaultDbContext db, string token, QueueInstance owner, DateTime now, DateTime until, int max, CancellationToken cancellationToken) =>
        db.OutboundMessages
            .Where(m => m.NextAttemptAt <= now && m.FinishedAt == null && m.HeldAt == null && (m.LeaseExpiresAt == null || m.LeaseExpiresAt < now))
            .OrderBy(m => m.NextAttemptAt)
            .Take(max)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseToken, token).SetProperty(m => m.LeaseExpiresAt, until)
                .SetProperty(m => m.LeaseOwner, owner.InstanceId).SetProperty(m => m.LeaseStartId, owner.StartId), cancellationToken);

    // PostgreSQL: writers run concurrently, so the rows are locked while they are chosen; a row another instance is
    // leasing right now is skipped, and a row it has just leased no longer matches when the lock is granted
    // (READ COMMITTED re-checks the WHERE on the new row version): instances never deliver one item at the same time.
    private static Task<int> LeaseOnPostgreSqlAsync(VaultDbContext db, string token, QueueInstance owner, DateTime now, DateTime until, int max, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"""
            UPDATE "OutboundMessages" SET "LeaseToken" = {token}, "LeaseExpiresAt" = {until}, "LeaseOwner" = {owner.InstanceId}, "LeaseStartId" = {owner.StartId}
            WHERE "Id" IN (
                SELECT "Id" FROM "OutboundMessages"
                WHERE "NextAttemptAt" <= {now} AND "FinishedAt" IS NULL AND "HeldAt" IS NULL
                  AND ("LeaseExpiresAt" IS NULL OR "LeaseExpiresAt" < {now})
                ORDER BY "NextAttemptAt"
                LIMIT {max}
                FOR UPDATE SKIP LOCKED)
            """, cancellationToken);

    /// <summary>
    /// Extends every lease this start of the instance holds (the heartbeat of a live delivery). Returns how many.
    /// </summary>
    public async Task<int> RenewLeasesAsync(CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow().UtcDateTime + _options.LeaseDuration;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.OutboundMessages
            .Where(m => m.LeaseToken != null && m.LeaseOwner == instance.InstanceId && m.LeaseStartId == instance.StartId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseExpiresAt, until), cancellationToken);
    }

    /// <summary>
    /// Releases the leases an earlier start of this instance held: that process is dead (this one has its
    /// instance id), so its work is due again at once instead of when the leases run out.
    /// </summary>
    public async Task<int> ReleaseEarlierLeasesAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var released = await db.OutboundMessages
            .Where(m => m.LeaseToken != null && m.LeaseOwner == instance.InstanceId && m.LeaseStartId != instance.StartId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseToken, (string?)null).SetProperty(m => m.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(m => m.LeaseOwner, (string?)null).SetProperty(m => m.LeaseStartId, (string?)null), cancellationToken);
        if (released > 0)
        {
            logger.LogWarning("Released {Count} queue leases held by an earlier start of instance {Instance}; they are due again now", released, instance.InstanceId);
        }
        return released;
    }

    /// <summary>
    /// Removes what is left of finished messages: their content files (a crash may have come between recording the
    /// delivery and removing the content), and the records themselves once older than Queue:FinishedRetention.
    /// </summary>
    public async Task<int> SweepFinishedAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var finished = await db.OutboundMessages.AsNoTracking().Where(m => m.FinishedAt != null)
            .Select(m => new { m.Id, m.ContentPath, m.FinishedAt, m.Kind }).ToListAsync(cancellationToken);
        foreach (var row in finished)
        {
            await RemoveContentAsync(row.ContentPath, overwrite: row.Kind == OutboundKind.Notification);
        }
        var cutoff = now - _options.FinishedRetention;
        return await db.OutboundMessages.Where(m => m.FinishedAt != null && m.FinishedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// Records the outcome of an attempt. Messages whose recipients are all final are removed with their content;
    /// the others are released and scheduled for the next retry.
    /// </summary>
    public Task CompleteAttemptAsync(OutboundMessage message, string? error, CancellationToken cancellationToken) =>
        CompleteAttemptsAsync([(message, error)], cancellationToken);

    /// <summary>
    /// Records the outcomes of several attempts in one transaction (group commit: one write lock, one fsync for the
    /// whole batch instead of one per message).
    /// </summary>
    public async Task CompleteAttemptsAsync(IReadOnlyList<(OutboundMessage Message, string? Error)> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        if (attempts.Count == 0)
        {
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = attempts.Select(a => a.Message.Id).ToList();
        var stored = await db.OutboundMessages.Include(m => m.Recipients).Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, cancellationToken);
        var finished = new List<OutboundMessage>();
        foreach (var (message, error) in attempts)
        {
            // A lease released meanwhile (queue retry) still takes the outcome: the attempt did happen.
            if (!stored.TryGetValue(message.Id, out var row) || row.FinishedAt is not null || (row.LeaseToken is not null && row.LeaseToken != message.LeaseToken))
            {
                logger.LogWarning("Queue item {QueueId} was deleted or re-leased during delivery", message.Id);
                continue;
            }
            foreach (var recipient in row.Recipients)
            {
                var outcome = message.Recipients.FirstOrDefault(r => r.Id == recipient.Id);
                if (outcome is null)
                {
                    continue;
                }
                recipient.State = outcome.State;
                recipient.LastResponse = Clip(outcome.LastResponse);
                recipient.CompletedAt = outcome.State == RecipientState.Pending ? null : now;
            }
            row.Attempts++;
            row.LastError = Clip(error);
            row.LeaseToken = null;
            row.LeaseExpiresAt = null;
            row.LeaseOwner = null;
            row.LeaseStartId = null;
            if (row.Recipients.All(r => r.State != RecipientState.Pending))
            {
                // Recorded first, removed after: a crash in between leaves a finished row, never a live one without
                // content, and never content that looks like it was never queued.
                row.FinishedAt = now;
                finished.Add(row);
            }
            else if (message.HeldAt is not null)
            {
                row.HeldAt = message.HeldAt;
                logger.LogError("Queue item {QueueId} is held for the operator: {Error}", row.Id, masking.Text(error));
            }
            else
            {
                row.NextAttemptAt = now + _options.RetryDelay(row.Attempts);
                logger.LogInformation("Queue item {QueueId} deferred until {NextAttempt:o}: {Error}", row.Id, row.NextAttemptAt, masking.Text(error));
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        foreach (var row in finished)
        {
            await RemoveContentAsync(row.ContentPath, overwrite: row.Kind == OutboundKind.Notification);
        }
        foreach (var row in finished)
        {
            logger.LogInformation("Queue item {QueueId} done: {Delivered} delivered, {Failed} failed",
                row.Id, row.Recipients.Count(r => r.State == RecipientState.Delivered), row.Recipients.Count(r => r.State == RecipientState.Failed));
        }
    }

    /// <summary>Lists the queue: every message not yet finished, held ones included (operator command).</summary>
    public async Task<IReadOnlyList<OutboundMessage>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.OutboundMessages.AsNoTracking().Include(m => m.Recipients).Where(m => m.FinishedAt == null).OrderBy(m => m.CreatedAt).ToListAsync(cancellationToken);
    }

    /// <summary>One queue item with its recipients, or null.</summary>
    public async Task<OutboundMessage?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.OutboundMessages.AsNoTracking().Include(m => m.Recipients).SingleOrDefaultAsync(m => m.Id == id, cancellationToken);
    }

    /// <summary>
    /// Makes an item (or every item, when id is null) due now (operator command, like <c>postqueue -f</c>): releases
    /// its lease and its hold, so the next worker that looks takes it.
    /// </summary>
    public async Task<int> RetryNowAsync(string? id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var count = await db.OutboundMessages.Where(m => (id == null || m.Id == id) && m.FinishedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.NextAttemptAt, now).SetProperty(m => m.HeldAt, (DateTime?)null)
                .SetProperty(m => m.LeaseToken, (string?)null).SetProperty(m => m.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(m => m.LeaseOwner, (string?)null).SetProperty(m => m.LeaseStartId, (string?)null), cancellationToken);
        if (count > 0)
        {
            Notify();
        }
        return count;
    }

    /// <summary>Deletes an item without delivering or bouncing it (operator command, like <c>postsuper -d</c>).</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stored = await db.OutboundMessages.SingleOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (stored is null)
        {
            return false;
        }
        db.OutboundMessages.Remove(stored);
        await db.SaveChangesAsync(cancellationToken);
        await RemoveContentAsync(stored.ContentPath, overwrite: stored.Kind == OutboundKind.Notification);
        logger.LogInformation("Queue item {QueueId} deleted by operator", id);
        return true;
    }

    // The columns hold 2048 characters; SQLite does not enforce that, PostgreSQL does (a long remote reply would
    // otherwise fail the whole batch).
    private static string? Clip(string? text) => text is { Length: > 2048 } ? text[..2048] : text;

    private Task RemoveContentAsync(string contentName, bool overwrite)
    {
        // The removal need not be durable: the finished row stays until Queue:FinishedRetention, and the sweep
        // removes its content again should a crash have undone this. A notification holds a live link, so its
        // content is overwritten first.
        if (overwrite)
        {
            DurableFile.TryOverwrite(ContentPathOf(contentName));
        }
        DurableFile.TryDelete(ContentPathOf(contentName));
        return Task.CompletedTask;
    }

    /// <summary>Opens the content of a queued message as a read-only stream limited to the message.</summary>
    public Stream OpenContent(OutboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var file = new FileStream(ContentPathOf(message.ContentPath), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return new SubStream(file, message.ContentOffset, message.ContentLength);
    }
}
