namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// The confirmations the mailbox shows after an action (<c>?done=…</c> on the page it lands on). Only these words are
/// shown; anything else in the query is ignored, so a crafted link cannot put text on the page.
/// </summary>
public static class MailboxFeedback
{
    public const string Sent = "sent";
    public const string Deleted = "deleted";
    public const string Restored = "restored";
    public const string Purged = "purged";
    public const string Emptied = "emptied";
    public const string MarkedUnread = "unread";

    private static readonly string[] All = [Sent, Deleted, Restored, Purged, Emptied, MarkedUnread];

    /// <summary>The value when it is one of the known confirmations, else null.</summary>
    public static string? Known(string? done) => done is not null && All.Contains(done) ? done : null;

    /// <summary>The resource name of a confirmation's text.</summary>
    public static string TextOf(string done) => "Done_" + done;
}
