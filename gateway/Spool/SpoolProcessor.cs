using Microsoft.Extensions.Logging;
using SecureMailbox.Vault.Outbound;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Gateway.Spool;

/// <summary>
/// Takes committed spool entries and hands them on: plain mail to the outbound queue (the spool file itself
/// becomes the queue content, renamed, not copied). An entry leaves the spool only after the queue row is
/// durable, and queueing is idempotent on the spool id, so a crash at any point neither loses nor duplicates.
/// </summary>
public sealed class SpoolProcessor(
    SpoolDirectory spool,
    SpoolSignal signal,
    OutboundQueue queue,
    ISecureMessageHandler secureHandler,
    TimeProvider time,
    ILogger<SpoolProcessor> logger) : BackgroundService
{
    private const int BatchSize = 64;
    private const int MinimumAttempts = 5;
    private static readonly TimeSpan QuarantineAfter = TimeSpan.FromMinutes(15);
    private readonly Dictionary<string, (int Count, DateTime Since)> _failures = [];

    /// <summary>Set once the entries found at start have been recovered (tests and the delivery worker wait on it).</summary>
    public TaskCompletionSource Recovered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Discards partial entries and recovers orphaned queue content before anything else of this process runs: the
    /// delivery worker starts after this (hosted services start in order), so no delivery of ours races with the scan.
    /// A content file is removed only after its row records the delivery (and that record outlives it), so a file
    /// without any row was never queued: the process died between the rename and the insert.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var discarded = spool.DiscardPartialEntries();
        if (discarded > 0)
        {
            logger.LogWarning("Discarded {Count} partial spool entries that were never acknowledged", discarded);
        }
        // All orphans at once, however young: the process that renamed them is this one's dead predecessor. Should
        // another instance sharing the data folder be between its rename and its insert right now, both insert the
        // same id and the queue keeps one (queueing is idempotent on the id).
        await RecoverOrphansAsync(TimeSpan.Zero, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>How old an orphan must be before a periodic scan takes it (a rename and its insert take milliseconds).</summary>
    private static readonly TimeSpan OrphanMinimumAge = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextOrphanScan = time.GetUtcNow().AddMinutes(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (time.GetUtcNow() >= nextOrphanScan)
                {
                    await RecoverOrphansAsync(OrphanMinimumAge, stoppingToken);
                    nextOrphanScan = time.GetUtcNow().AddMinutes(1);
                }
                var processed = await ProcessBatchAsync(stoppingToken);
                Recovered.TrySetResult();
                if (processed < BatchSize || _failures.Count > 0)
                {
                    await signal.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Spool processing failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
            }
        }
    }

    /// <summary>Processes up to one batch of ready entries; returns how many.</summary>
    public async Task<int> ProcessBatchAsync(CancellationToken cancellationToken)
    {
        var entries = spool.ReadyEntries(BatchSize);
        var relayed = new List<OutboundMessage>();
        foreach (var path in entries)
        {
            SpoolEnvelope envelope;
            try
            {
                envelope = SpoolDirectory.ReadEnvelope(path);
            }
            catch (Exception exception) when (exception is InvalidDataException or System.Text.Json.JsonException)
            {
                logger.LogError(exception, "Spool entry {Path} is unreadable; moved to corrupt/", Path.GetFileName(path));
                spool.Quarantine(path);
                continue;
            }
            try
            {
                if (envelope.Class == MessageClass.Secure)
                {
                    await secureHandler.HandleAsync(path, envelope, cancellationToken);
                    DurableFile.TryDelete(path);
                    continue;
                }
                relayed.Add(MoveToQueue(path, envelope));
                _failures.Remove(envelope.Id);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One entry that keeps failing must not hold up the others; after a few tries an operator looks at it.
                var now = time.GetUtcNow().UtcDateTime;
                var (failures, since) = _failures.GetValueOrDefault(envelope.Id, (0, now));
                _failures[envelope.Id] = (++failures, since);
                if (failures >= MinimumAttempts && now - since >= QuarantineAfter)
                {
                    logger.LogCritical(exception, "Spool entry {SpoolId} failed {Count} times; moved to corrupt/ for an operator", envelope.Id, failures);
                    spool.Quarantine(path);
                    _failures.Remove(envelope.Id);
                }
                else
                {
                    logger.LogError(exception, "Spool entry {SpoolId} failed (attempt {Count}); it stays in the spool", envelope.Id, failures);
                }
            }
        }
        if (relayed.Count > 0)
        {
            // One directory fsync and one transaction for the whole batch (group commit); should the insert fail,
            // the moved files are self-describing orphans that RecoverOrphansAsync queues.
            DurableFile.SyncDirectory(queue.ContentDirectory);
            await queue.EnqueueManyAsync(relayed, cancellationToken);
        }
        return entries.Count;
    }

    /// <summary>
    /// Queues content files that have no queue row: the process stopped between the rename and the insert.
    /// Only files older than <paramref name="minimumAge"/> are taken, so another instance's rename in progress is left alone.
    /// </summary>
    public async Task<int> RecoverOrphansAsync(TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(queue.ContentDirectory))
        {
            return 0;
        }
        var recovered = 0;
        foreach (var file in Directory.EnumerateFiles(queue.ContentDirectory, "*.eml"))
        {
            if (File.GetLastWriteTimeUtc(file) > time.GetUtcNow().UtcDateTime - minimumAge)
            {
                continue;
            }
            var id = Path.GetFileNameWithoutExtension(file);
            if (await queue.FindAsync(id, cancellationToken) is not null)
            {
                continue;
            }
            SpoolEnvelope envelope;
            try
            {
                envelope = SpoolDirectory.ReadEnvelope(file);
            }
            catch (InvalidDataException)
            {
                continue; // content written by the queue itself (notifications): not ours to recover
            }
            logger.LogWarning("Recovering queue content {QueueId} that had no queue row", id);
            recovered += await queue.EnqueueManyAsync([MoveToQueue(file, envelope)], cancellationToken);
        }
        return recovered;
    }

    /// <summary>
    /// Renames the spool file into the queue folder (the envelope trailer comes along) and returns its queue row.
    /// Rename first, row after: a crash in between leaves a self-describing file that RecoverOrphansAsync queues.
    /// </summary>
    private OutboundMessage MoveToQueue(string path, SpoolEnvelope envelope)
    {
        var contentName = envelope.Id + ".eml";
        var target = queue.ContentPathOf(contentName);
        Directory.CreateDirectory(queue.ContentDirectory);
        if (string.Equals(Path.GetFullPath(path), Path.GetFullPath(target), StringComparison.Ordinal))
        {
            // Recovering an orphan: the content is already in place.
        }
        else if (File.Exists(target))
        {
            DurableFile.TryDelete(path); // renamed before a crash whose source entry survived
        }
        else
        {
            File.Move(path, target);
            // A rename keeps the time the message was received; the periodic orphan scan goes by the time of the move.
            File.SetLastWriteTimeUtc(target, time.GetUtcNow().UtcDateTime);
        }
        return new OutboundMessage
        {
            Id = envelope.Id,
            Kind = OutboundKind.Relay,
            EnvelopeFrom = envelope.From,
            EnvelopeId = envelope.EnvelopeId,
            Ret = envelope.Ret,
            EightBitMime = envelope.EightBitMime,
            ContentPath = contentName,
            ContentOffset = 0,
            ContentLength = envelope.MessageLength,
            Recipients = envelope.To.Select(a => new OutboundRecipient { Address = a }).ToList(),
        };
    }
}

/// <summary>Vaults a flagged message (built by the vault's secure path); the gateway refuses flagged mail without one.</summary>
public interface ISecureMessageHandler
{
    /// <summary>Whether secure delivery is configured.</summary>
    bool IsAvailable { get; }

    /// <summary>Stores the spooled message in the vault and queues the notifications.</summary>
    Task HandleAsync(string spoolPath, SpoolEnvelope envelope, CancellationToken cancellationToken);
}
