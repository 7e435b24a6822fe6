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
    ILogger<SpoolProcessor> logger) : BackgroundService
{
    private const int BatchSize = 64;
    private const int MinimumAttempts = 5;
    private static readonly TimeSpan QuarantineAfter = TimeSpan.FromMinutes(15);
    private readonly Dictionary<string, (int Count, DateTime Since)> _failures = [];

    /// <summary>Set once the entries found at start have been recovered (tests and the delivery worker wait on it).</summary>
    public TaskCompletionSource Recovered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var discarded = spool.DiscardPartialEntries();
        if (discarded > 0)
        {
            logger.LogWarning("Discarded {Count} partial spool entries that were never acknowledged", discarded);
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextOrphanScan = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow >= nextOrphanScan)
                {
                    // At start, every orphan is this data folder's own (the process that moved it has died);
                    // later scans leave young files to a move that is still on its way to its queue row.
                    await RecoverOrphansAsync(nextOrphanScan == DateTime.MinValue ? TimeSpan.Zero : TimeSpan.FromMinutes(1), stoppingToken);
                    nextOrphanScan = DateTime.UtcNow.AddMinutes(1);
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
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
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
                var (failures, since) = _failures.GetValueOrDefault(envelope.Id, (0, DateTime.UtcNow));
                _failures[envelope.Id] = (++failures, since);
                if (failures >= MinimumAttempts && DateTime.UtcNow - since >= QuarantineAfter)
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
            if (File.GetLastWriteTimeUtc(file) > DateTime.UtcNow - minimumAge)
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
            await queue.EnqueueManyAsync([MoveToQueue(file, envelope)], cancellationToken);
            recovered++;
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
