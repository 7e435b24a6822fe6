using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// Delivers the outbound queue: leases due messages, sends each to the next hop, records every recipient's
/// outcome, retries transient failures with backoff until the lifetime ends, and sends exactly one bounce per
/// failed attempt batch to the envelope sender (none for the null sender or for bounces: SECURITY.md D7, D8).
/// </summary>
public sealed class DeliveryWorker(
    OutboundQueue queue,
    INextHop nextHop,
    BounceComposer bounces,
    IOptions<QueueOptions> options,
    TimeProvider time,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly QueueOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var delivered = await RunOnceAsync(stoppingToken);
                if (delivered == 0)
                {
                    await queue.WaitForWorkAsync(_options.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Delivery loop failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
            }
        }
    }

    /// <summary>Leases one batch and delivers it; returns how many messages were attempted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var batch = await queue.LeaseDueAsync(_options.BatchSize, cancellationToken);
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<(OutboundMessage, string?)>();
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (message, ct) => outcomes.Enqueue((message, await DeliverAsync(message, ct))));
        // One transaction records the whole batch (group commit).
        await queue.CompleteAttemptsAsync(outcomes.ToList(), cancellationToken);
        return batch.Count;
    }

    /// <summary>Delivers one leased message and updates its recipients in place; returns the attempt's error, if any.</summary>
    private async Task<string?> DeliverAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var pending = message.Recipients.Where(r => r.State == RecipientState.Pending).ToList();
        var now = time.GetUtcNow().UtcDateTime;
        string? error = null;
        if (!File.Exists(queue.ContentPathOf(message.ContentPath)))
        {
            error = "content file missing";
            logger.LogError("Queue item {QueueId}: content file is missing", message.Id);
            foreach (var recipient in pending)
            {
                recipient.LastResponse = "451 4.3.0 queued content is missing";
            }
        }
        else
        {
            IReadOnlyList<RecipientResult> results;
            try
            {
                results = await nextHop.DeliverAsync(message, () => queue.OpenContent(message), pending.Select(r => r.Address).ToList(), cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogError(exception, "Queue item {QueueId}: delivery failed", message.Id);
                results = pending.Select(r => new RecipientResult(r.Address, Outcome.Transient, $"451 4.3.0 {exception.GetType().Name}")).ToList();
            }
            foreach (var recipient in pending)
            {
                var result = results.FirstOrDefault(r => string.Equals(r.Address, recipient.Address, StringComparison.OrdinalIgnoreCase));
                if (result is null)
                {
                    continue;
                }
                recipient.LastResponse = result.Response;
                recipient.State = result.Outcome switch
                {
                    Outcome.Delivered => RecipientState.Delivered,
                    Outcome.Permanent => RecipientState.Failed,
                    _ => RecipientState.Pending,
                };
                logger.LogInformation("Queue item {QueueId} to {Recipient}: {Outcome} {Response}", message.Id, recipient.Address, result.Outcome, result.Response);
            }
            error = results.Where(r => r.Outcome == Outcome.Transient).Select(r => r.Response).FirstOrDefault();
        }
        var expired = now >= message.ExpiresAt;
        if (expired)
        {
            foreach (var recipient in pending.Where(r => r.State == RecipientState.Pending))
            {
                recipient.State = RecipientState.Failed;
                recipient.LastResponse = $"{recipient.LastResponse ?? "451 4.4.7"} (gave up after {Describe(_options.MaxLifetime)})";
            }
        }
        var newlyFailed = pending.Where(r => r.State == RecipientState.Failed).ToList();
        if (newlyFailed.Count > 0)
        {
            await BounceAsync(message, newlyFailed, cancellationToken);
        }
        return error;
    }

    /// <summary>The lifetime in words for the bounce: "5 days", "12 hours", "90 seconds" (never "0 days").</summary>
    private static string Describe(TimeSpan lifetime)
    {
        var (amount, unit) = lifetime.TotalDays >= 1 ? (lifetime.TotalDays, "days")
            : lifetime.TotalHours >= 1 ? (lifetime.TotalHours, "hours")
            : lifetime.TotalMinutes >= 1 ? (lifetime.TotalMinutes, "minutes")
            : (lifetime.TotalSeconds, "seconds");
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{amount:0.#} {unit}");
    }

    /// <summary>Queues one DSN for the recipients that failed in this attempt; never for &lt;&gt; or for a bounce.</summary>
    private async Task BounceAsync(OutboundMessage message, List<OutboundRecipient> failed, CancellationToken cancellationToken)
    {
        if (message.EnvelopeFrom.Length == 0 || message.Kind == OutboundKind.Bounce)
        {
            logger.LogWarning("Queue item {QueueId}: {Count} recipients failed; no bounce for the null sender", message.Id, failed.Count);
            return;
        }
        HeaderList? headers = null;
        try
        {
            await using var content = queue.OpenContent(message);
            headers = await HeaderList.LoadAsync(content, cancellationToken);
            MessageRewriter.RemovePrivateHeaders(headers);
        }
        catch (Exception exception) when (exception is IOException or FormatException or ParseException)
        {
            logger.LogWarning("Queue item {QueueId}: original headers unreadable for the bounce: {Error}", message.Id, exception.Message);
        }
        using var bounce = bounces.Compose(message, headers, failed);
        // The bounce's id derives from the original's and the attempt, so a retried attempt does not bounce twice.
        var id = $"{message.Id}b{message.Attempts + 1}";
        var contentName = await queue.WriteContentAsync(id, (stream, ct) => bounce.WriteToAsync(FormatOptions.Default, stream, ct), cancellationToken);
        var length = new FileInfo(queue.ContentPathOf(contentName)).Length;
        await queue.EnqueueAsync(new OutboundMessage
        {
            Id = id,
            Kind = OutboundKind.Bounce,
            EnvelopeFrom = "",
            ContentPath = contentName,
            ContentLength = length,
            Recipients = [new OutboundRecipient { Address = message.EnvelopeFrom }],
        }, cancellationToken);
        logger.LogInformation("Queue item {QueueId}: bounce {BounceId} queued to the sender for {Count} recipients", message.Id, id, failed.Count);
    }
}
