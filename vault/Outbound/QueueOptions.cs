using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Vault.Outbound;

/// <summary>Retry and lifetime policy of the outbound queue: configuration section <c>Queue</c>.</summary>
public sealed class QueueOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Queue";

    /// <summary>Delay before the first retry (docs/rules.md D7: 5 minutes).</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The retry delay doubles up to this (about an hour).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long delivery is tried before the message bounces (RFC 5321 §4.5.4.1: 4-5 days).</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(5);

    /// <summary>
    /// How long a lease holds without renewal. The holder renews its leases every third of this while its delivery
    /// is alive, so a lease outlives its holder by at most this: a dead instance's work resumes elsewhere within it.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// This instance's id in leases; empty means the host name. Instances that share the database need different
    /// ids; the same instance keeps its id across restarts, so that at start it releases what its dead process held.
    /// </summary>
    [MaxLength(100)]
    public string? InstanceId { get; set; }

    /// <summary>How long the record of a finished message is kept (it makes recovery at start idempotent).</summary>
    public TimeSpan FinishedRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many messages a worker leases at once.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 32;

    /// <summary>How many deliveries run in parallel in one worker.</summary>
    [Range(1, 256)]
    public int Concurrency { get; set; } = 20;

    /// <summary>How often an idle worker looks for due messages.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FirstRetryDelay <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Queue:FirstRetryDelay must be positive.", [nameof(FirstRetryDelay)]);
        }
        if (MaxRetryDelay < FirstRetryDelay)
        {
            yield return new ValidationResult("Queue:MaxRetryDelay must be at least Queue:FirstRetryDelay.", [nameof(MaxRetryDelay)]);
        }
        if (MaxLifetime <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Queue:MaxLifetime must be positive.", [nameof(MaxLifetime)]);
        }
        if (LeaseDuration < TimeSpan.FromSeconds(3))
        {
            yield return new ValidationResult("Queue:LeaseDuration must be at least 3 seconds.", [nameof(LeaseDuration)]);
        }
        if (FinishedRetention < TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult("Queue:FinishedRetention must be at least 1 minute.", [nameof(FinishedRetention)]);
        }
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Queue:PollInterval must be positive.", [nameof(PollInterval)]);
        }
    }

    /// <summary>The delay after the given number of failed attempts: doubling from the first delay, capped.</summary>
    public TimeSpan RetryDelay(int failedAttempts)
    {
        var delay = FirstRetryDelay;
        for (var i = 1; i < failedAttempts && delay < MaxRetryDelay; i++)
        {
            delay *= 2;
        }
        return delay < MaxRetryDelay ? delay : MaxRetryDelay;
    }
}
