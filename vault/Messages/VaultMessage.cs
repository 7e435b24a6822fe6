namespace SecureMailbox.Vault.Messages;

/// <summary>
/// One stored secure message: the encrypted payload (age STREAM of the original MIME message) lives in the blob
/// store of its region; the header stanzas that wrap its file key live per reader in <see cref="MailboxItem"/>.
/// Nothing here is readable: no subject, no names.
/// </summary>
public sealed class VaultMessage
{
    /// <summary>Id; for mail from the gateway, derived from the spool id so processing it twice stores it once.</summary>
    public Guid Id { get; set; }

    public required string Region { get; set; }

    /// <summary>The blob's name in the region's store.</summary>
    public required string BlobName { get; set; }

    /// <summary>Size of the encrypted payload in bytes.</summary>
    public long PayloadSize { get; set; }

    public Guid SenderAccountId { get; set; }

    /// <summary>The message this one replies to, if any.</summary>
    public Guid? InReplyToId { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>A mailbox folder.</summary>
public enum Folder
{
    Inbox,
    Sent,
    Trash,
}

/// <summary>
/// A message as one account sees it: the stanza that wraps the message's file key to the account's key
/// (or, while pending, to a link key), and the listing metadata encrypted to the same key.
/// </summary>
public sealed class MailboxItem
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid AccountId { get; set; }

    public Guid MessageId { get; set; }

    public Folder Folder { get; set; }

    /// <summary>The folder the item was in before Trash (for restore).</summary>
    public Folder? PreviousFolder { get; set; }

    public bool IsRead { get; set; }

    /// <summary>The age stanza (text form) wrapping the file key.</summary>
    public required string Stanza { get; set; }

    /// <summary>Listing metadata (<see cref="MessageMetadata"/> as JSON) in an age file to the same key.</summary>
    public required byte[] EncryptedMetadata { get; set; }

    /// <summary>While set, the stanza and metadata are for this link's key, not the account's.</summary>
    public Guid? PendingLinkId { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// Set when the account got a new key pair (password reset by SMS alone): the stanza and metadata are for the
    /// old key, which nobody holds any more. The item can only be deleted or re-sent by its sender.
    /// </summary>
    public DateTime? LockedAt { get; set; }

    /// <summary>When the reader asked the sender to send a locked message again (once per item).</summary>
    public DateTime? ResendRequestedAt { get; set; }
}

/// <summary>What a link in a notification is for.</summary>
public enum LinkPurpose
{
    /// <summary>A message for a recipient without an account: the link's secret unwraps the key the message is encrypted to.</summary>
    PendingRecipient,

    /// <summary>A pending sender's copy of what they sent (a "sent securely" receipt).</summary>
    PendingSender,

    /// <summary>A message for an active account: the link only leads to sign-in.</summary>
    SignIn,
}

/// <summary>
/// A link mailed in a notification. The token (≥ 256 bits) is only in the mail: the database keeps its hash, and,
/// for pending readers, the link key's private half wrapped under a secret derived from the token
/// (docs/rules.md property 5).
/// </summary>
public sealed class NotificationLink
{
    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>SHA-256 of the token's look-up derivation.</summary>
    public required byte[] TokenHash { get; set; }

    public LinkPurpose Purpose { get; set; }

    public Guid AccountId { get; set; }

    public Guid MessageId { get; set; }

    /// <summary>Public half of the link key (<c>age1…</c>), for pending readers.</summary>
    public string? PublicKey { get; set; }

    /// <summary>Private half of the link key, wrapped under the token's secret.</summary>
    public byte[]? WrappedKey { get; set; }

    /// <summary>The mobile number the sender gave for this recipient (E.164).</summary>
    public string? Phone { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    /// <summary>When the link was exchanged for a session (single use).</summary>
    public DateTime? UsedAt { get; set; }
}

/// <summary>The listing facts of a message, stored only encrypted (to each reader's key).</summary>
public sealed class MessageMetadata
{
    public string Subject { get; set; } = "";

    public string FromAddress { get; set; } = "";

    public string FromName { get; set; } = "";

    public List<string> To { get; set; } = [];

    public List<string> Cc { get; set; } = [];

    public DateTimeOffset Date { get; set; }

    public long Size { get; set; }

    public List<AttachmentInfo> Attachments { get; set; } = [];
}

/// <summary>An attachment's name and size, for the listing.</summary>
public sealed class AttachmentInfo
{
    public string FileName { get; set; } = "";

    public string ContentType { get; set; } = "";
}
