using Microsoft.AspNetCore.Mvc;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>Inbox, Sent, Trash: listing metadata decrypted with the session's key.</summary>
public sealed class MailboxPage(SessionStore sessions, MailboxQueries queries, TrashService trash) : SignedInPageModel(sessions)
{
    public Folder Folder { get; private set; }

    public List<MailboxEntry> Entries { get; private set; } = [];

    /// <summary>After a reply: how many recipients could not be reached securely (no account and no number).</summary>
    public int NotReached { get; private set; }

    /// <summary>What the last action did, confirmed at the top of the page (one of <see cref="MailboxFeedback.Known"/>).</summary>
    public string? Done { get; private set; }

    /// <summary>The trash asks once more before it is emptied for good.</summary>
    public bool ConfirmEmpty { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? folder, [FromQuery] int notReached, [FromQuery] string? done, [FromQuery] string? confirm)
    {
        NotReached = Math.Clamp(notReached, 0, 100);
        Done = MailboxFeedback.Known(done);
        if (!TryFolder(folder, out var parsed))
        {
            return NotFound();
        }
        Folder = parsed;
        Entries = await queries.ListAsync(Session, Folder, HttpContext.RequestAborted);
        ConfirmEmpty = Folder == Folder.Trash && confirm == "empty" && Entries.Count > 0;
        return Page();
    }

    public async Task<IActionResult> OnPostEmptyAsync(string? folder, [FromForm] bool confirmed)
    {
        if (!TryFolder(folder, out var parsed) || parsed != Folder.Trash)
        {
            return NotFound();
        }
        if (!confirmed)
        {
            return Redirect("/mailbox/trash?confirm=empty");
        }
        await trash.EmptyAsync(Session.AccountId, HttpContext.RequestAborted);
        return Redirect("/mailbox/trash?done=" + MailboxFeedback.Emptied);
    }

    private static bool TryFolder(string? text, out Folder folder)
    {
        folder = Folder.Inbox;
        switch (text)
        {
            case null or "inbox":
                return true;
            case "sent":
                folder = Folder.Sent;
                return true;
            case "trash":
                folder = Folder.Trash;
                return true;
            default:
                return false;
        }
    }
}
