using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// Delivers the outbound queue: leases due messages, sends each to the next hop, records every recipient's
/// outcome, retries transient failures with backoff until the lifetime ends, and sends exactly one bounce per
/// failed attempt batch to the envelope sender (none for the null sender or for bounces: docs/rules.md D7, D8).
/// A failure that cannot be bounced, or that is the gateway's own configuration (its smarthost refuses to relay), is
/// held in the queue for the operator instead. While deliveries run, a heartbeat renews their leases.
/// </summary>
public sealed class DeliveryWorker(
    OutboundQueue queue,
    INextHop nextHop,
    BounceComposer bounces,
    IOptions<QueueOptions> options,
    IOptions<DeliveryOptions> delivery,
    TimeProvider time,
    AddressMasking masking,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly QueueOptions _options = options.Value;
    private readonly DeliveryOptions _delivery = delivery.Value;

    /// <summary>
    /// Before the first delivery: what an earlier start of this instance leased is released (that process is dead),
    /// and what finished messages left behind is swept. Hosted services start in order, so the spool processor's
    /// recovery has already run, and no delivery of this process can race with either.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await queue.ReleaseEarlierLeasesAsync(cancellationToken);
        await queue.SweepFinishedAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var heartbeat = HeartbeatAsync(heartbeatStop.Token);
        try
        {
            await DeliverLoopAsync(stoppingToken);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }
    }

    /// <summary>
    /// Renews this process's leases every third of Queue:LeaseDuration, so that a lease expires only when its holder
    /// is dead (or cannot reach the database), and every few minutes sweeps finished messages.
    /// </summary>
    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var interval = _options.LeaseDuration / 3;
        var nextSweep = time.GetUtcNow() + TimeSpan.FromMinutes(5);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, cancellationToken);
                await queue.RenewLeasesAsync(cancellationToken);
                if (time.GetUtcNow() >= nextSweep)
                {
                    nextSweep = time.GetUtcNow() + TimeSpan.FromMinutes(5);
                    await queue.SweepFinishedAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Renewing queue leases failed; retrying");
            }
        }
    }

    private async Task DeliverLoopAsync(CancellationToken stoppingToken)
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
            // Never retried, never bounced: there is nothing left to deliver, and the content is removed only after
            // a delivery was recorded, so this is outside interference (reported once, here, and the row removed).
            logger.LogError("Queue item {QueueId}: its content file {Content} is missing; the item is removed without delivery or bounce", message.Id, message.ContentPath);
            foreach (var recipient in pending)
            {
                recipient.State = RecipientState.Failed;
                recipient.LastResponse = "554 5.3.0 queued content is missing";
            }
            return "queued content is missing";
        }
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
                logger.LogInformation("Queue item {QueueId} to {Recipient}: {Outcome} {Response}", message.Id, masking.Address(recipient.Address), result.Outcome, masking.Text(result.Response));
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
        if (newlyFailed.Count == 0)
        {
            return error;
        }
        var holdReason = OwnConfigurationRefusal(newlyFailed)
            ?? (message.EnvelopeFrom.Length == 0 || message.Kind == OutboundKind.Bounce ? "failed permanently and cannot be bounced (null sender)" : null);
        if (holdReason is not null)
        {
            await HoldAsync(message, newlyFailed, holdReason, cancellationToken);
            return $"held for the operator: {holdReason}: {newlyFailed[0].LastResponse}";
        }
        await BounceAsync(message, newlyFailed, cancellationToken);
        return error;
    }

    /// <summary>
    /// A refusal that says the smarthost will not relay for the gateway (5.7.x at MAIL or RCPT: relay access denied,
    /// authentication required) is the organisation's own configuration, not the recipient's fault: bouncing it would
    /// lose the message.
    /// </summary>
    private string? OwnConfigurationRefusal(IReadOnlyList<OutboundRecipient> failed)
    {
        if (_delivery.Mode != "Smarthost")
        {
            return null;
        }
        var response = failed.Select(r => r.LastResponse ?? "").FirstOrDefault(r =>
            System.Text.RegularExpressions.Regex.IsMatch(r, @"^5\d\d[ -]5\.7\.\d+", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1))
            || r.Contains("relay", StringComparison.OrdinalIgnoreCase)
            || r.StartsWith("530", StringComparison.Ordinal));
        return response is null ? null : "the smarthost refused to relay for the gateway (check Delivery:Username and the smarthost's relay rules)";
    }

    /// <summary>
    /// Keeps the message in the queue, held: its failed recipients stay pending until the operator runs
    /// <c>queue retry</c> (or deletes it). An Error is logged and, when Delivery:PostmasterAddress is set, a report goes
    /// there (the double bounce), except for a report to the postmaster that failed itself.
    /// </summary>
    private async Task HoldAsync(OutboundMessage message, List<OutboundRecipient> failed, string reason, CancellationToken cancellationToken)
    {
        message.HeldAt = time.GetUtcNow().UtcDateTime;
        logger.LogError("Queue item {QueueId} held for the operator: {Reason}; {Count} recipients, last answer {Response}",
            message.Id, reason, failed.Count, masking.Text(failed[0].LastResponse));
        var postmaster = _delivery.PostmasterAddress;
        var reportToPostmaster = !string.IsNullOrEmpty(postmaster)
            && !(message.Kind == OutboundKind.Bounce && message.Recipients.All(r => string.Equals(r.Address, postmaster, StringComparison.OrdinalIgnoreCase)));
        if (reportToPostmaster)
        {
            await QueueReportAsync(message, failed, $"The message is held in the gateway's queue ({message.Id}): {reason}. Run 'queue show {message.Id}', fix the cause, then 'queue retry {message.Id}' (or 'queue delete').", postmaster!, $"{message.Id}p{message.Attempts + 1}", cancellationToken);
        }
        foreach (var recipient in failed)
        {
            recipient.State = RecipientState.Pending;
        }
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
        // The bounce's id derives from the original's and the attempt, so a retried attempt does not bounce twice.
        await QueueReportAsync(message, failed, null, null, $"{message.Id}b{message.Attempts + 1}", cancellationToken);
        logger.LogInformation("Queue item {QueueId}: bounce queued to the sender for {Count} recipients", message.Id, failed.Count);
    }

    private async Task QueueReportAsync(OutboundMessage message, List<OutboundRecipient> failed, string? explanation, string? to, string id, CancellationToken cancellationToken)
    {
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
        using var bounce = bounces.Compose(message, headers, failed, explanation, to);
        var contentName = await queue.WriteContentAsync(id, (stream, ct) => bounce.WriteToAsync(FormatOptions.Default, stream, ct), cancellationToken);
        var length = new FileInfo(queue.ContentPathOf(contentName)).Length;
        await queue.EnqueueAsync(new OutboundMessage
        {
            Id = id,
            Kind = OutboundKind.Bounce,
            EnvelopeFrom = "",
            ContentPath = contentName,
            ContentLength = length,
            Recipients = [new OutboundRecipient { Address = to ?? message.EnvelopeFrom }],
        }, cancellationToken);
    }
}
