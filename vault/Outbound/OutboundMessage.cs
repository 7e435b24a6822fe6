namespace SecureMailbox.Vault.Outbound;

/// <summary>What an outbound message is, which decides how its failures are reported.</summary>
public enum OutboundKind
{
    /// <summary>A plain message relayed unchanged for the organisation's mail server.</summary>
    Relay,

    /// <summary>A notification SecureMailbox composed (a link to the portal).</summary>
    Notification,

    /// <summary>A delivery status notification (RFC 3464); never bounced itself.</summary>
    Bounce,
}

/// <summary>The per-recipient state of an outbound message.</summary>
public enum RecipientState
{
    /// <summary>Not yet delivered; retried until it succeeds, fails permanently or expires.</summary>
    Pending,

    /// <summary>The next hop accepted it (2xx).</summary>
    Delivered,

    /// <summary>Refused permanently (5xx) or expired; a bounce has been queued where one is due.</summary>
    Failed,
}

/// <summary>
/// A message in the outbound queue. Its content (the full RFC 5322 message) lives in a file beside the
/// database; the row holds the envelope and the delivery state.
/// </summary>
public sealed class OutboundMessage
{
    /// <summary>The queue id, also used in logs and in the Received header.</summary>
    public required string Id { get; set; }

    /// <summary>Relay, notification or bounce.</summary>
    public OutboundKind Kind { get; set; }

    /// <summary>Envelope sender (MAIL FROM); empty for the null sender &lt;&gt;.</summary>
    public string EnvelopeFrom { get; set; } = "";

    /// <summary>DSN envelope id (ENVID) from the client, passed on where the next hop supports DSN.</summary>
    public string? EnvelopeId { get; set; }

    /// <summary>DSN RET parameter (FULL or HDRS).</summary>
    public string? Ret { get; set; }

    /// <summary>Whether the client declared BODY=8BITMIME.</summary>
    public bool EightBitMime { get; set; }

    /// <summary>Name of the content file in the queue folder.</summary>
    public required string ContentPath { get; set; }

    /// <summary>Offset of the message within the content file.</summary>
    public long ContentOffset { get; set; }

    /// <summary>Length of the message in bytes.</summary>
    public long ContentLength { get; set; }

    /// <summary>When the message entered the queue.</summary>
    public DateTime CreatedAt { get; set; }

    /// <summary>When delivery is given up (RFC 5321 §4.5.4.1: at least 4-5 days).</summary>
    public DateTime ExpiresAt { get; set; }

    /// <summary>Earliest time of the next delivery attempt.</summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>Number of attempts made.</summary>
    public int Attempts { get; set; }

    /// <summary>Token of the batch that leased this message; null when free.</summary>
    public string? LeaseToken { get; set; }

    /// <summary>Until when the lease holds; the holder renews it while its delivery is alive, so an expired lease
    /// means a dead (or stuck) holder and frees the message.</summary>
    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>The instance that holds the lease (<see cref="QueueInstance.InstanceId"/>); null when free.</summary>
    public string? LeaseOwner { get; set; }

    /// <summary>Which start of <see cref="LeaseOwner"/> holds the lease (<see cref="QueueInstance.StartId"/>): a lease
    /// from an earlier start of the same instance is dead and released when the instance starts again.</summary>
    public string? LeaseStartId { get; set; }

    /// <summary>
    /// When every recipient reached a final state. The row then stays as a record of the delivery while its content
    /// is removed (so a crash in between can neither re-queue the content nor leave a live row without content), and
    /// is swept later. Finished rows are never leased or listed.
    /// </summary>
    public DateTime? FinishedAt { get; set; }

    /// <summary>
    /// When the message was put on hold for the operator (a failure that cannot be bounced, or a refusal that is the
    /// gateway's own configuration); null when not held. Held messages are not retried until <c>queue retry</c>.
    /// </summary>
    public DateTime? HeldAt { get; set; }

    /// <summary>The last error, without message content.</summary>
    public string? LastError { get; set; }

    /// <summary>The envelope recipients and their states.</summary>
    public List<OutboundRecipient> Recipients { get; set; } = [];
}

/// <summary>One envelope recipient of an <see cref="OutboundMessage"/>.</summary>
public sealed class OutboundRecipient
{
    /// <summary>Row id.</summary>
    public long Id { get; set; }

    /// <summary>The message this recipient belongs to.</summary>
    public string MessageId { get; set; } = "";

    /// <summary>The envelope address (RCPT TO).</summary>
    public required string Address { get; set; }

    /// <summary>Delivery state.</summary>
    public RecipientState State { get; set; }

    /// <summary>The next hop's last answer for this recipient.</summary>
    public string? LastResponse { get; set; }

    /// <summary>When the recipient reached a final state.</summary>
    public DateTime? CompletedAt { get; set; }
}
