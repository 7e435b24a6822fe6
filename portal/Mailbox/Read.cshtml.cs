using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// Reading one message. The whole decrypted message is read (and so authenticated) before anything is shown: a
/// tampered payload or stanza ends in the error page, never in partial content. HTML goes through
/// <see cref="HtmlBodySanitizer"/> into a sandboxed frame without scripts or same-origin.
/// </summary>
public sealed class ReadPage(
    SessionStore sessions,
    MailboxQueries queries,
    VaultReader reader,
    TrashService trash,
    ResendRequests resendRequests,
    IDbContextFactory<VaultDbContext> vaultFactory,
    ILogger<ReadPage> logger)
    : SignedInPageModel(sessions)
{
    public MailboxItem Item { get; private set; } = null!;

    public MessageMetadata Metadata { get; private set; } = new();

    public string From { get; private set; } = "";

    /// <summary>The sender's display name as they wrote it (may be anything).</summary>
    public string SenderName { get; private set; } = "";

    /// <summary>The sender's address as the vault knows it: the account that sent the message.</summary>
    public string VerifiedSender { get; private set; } = "";

    public string? PlainText { get; private set; }

    public string? FrameDocument { get; private set; }

    public bool HasRemoteImages { get; private set; }

    public bool ImagesAllowed { get; private set; }

    public List<AttachmentPart> Attachments { get; private set; } = [];

    /// <summary>Further text parts of the message, in order, shown after the body.</summary>
    public List<string> ExtraTexts { get; private set; } = [];

    /// <summary>For a locked item: the sender's address (from the vault), and whether they can be asked to resend.</summary>
    public string? LockedSender { get; private set; }

    public bool CanRequestResend { get; private set; }

    /// <summary>"Delete forever" asks once more (<c>?confirm=purge</c>) before the key material is destroyed.</summary>
    public bool ConfirmPurge { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, [FromQuery] int? images, [FromQuery] string? confirm)
    {
        ConfirmPurge = confirm == "purge";
        var found = await queries.FindIncludingLockedAsync(Session, id, HttpContext.RequestAborted);
        if (found is null)
        {
            return NotFound();
        }
        var (item, message) = found.Value;
        Item = item;
        if (item.LockedAt is not null)
        {
            // Its stanza and metadata are for the replaced key: nothing is tried, the page says so.
            await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
            LockedSender = await MailboxQueries.SenderAddressAsync(db, message.Id, HttpContext.RequestAborted);
            var ownAddress = await db.Accounts.Where(a => a.Id == Session.AccountId).Select(a => a.Email).SingleAsync(HttpContext.RequestAborted);
            CanRequestResend = ResendRequests.CanAsk(LockedSender, ownAddress);
            return Page();
        }
        ImagesAllowed = images == 1;
        MessageContent content;
        try
        {
            Metadata = await VaultReader.ReadMetadataAsync(item.EncryptedMetadata, Session.Key, HttpContext.RequestAborted);
            await using var stream = reader.OpenMessage(message, item.Stanza, Session.Key);
            content = await MessageContent.ReadAsync(stream, HttpContext.RequestAborted);
        }
        catch (Exception exception) when (exception is SecureMailbox.Vault.Crypto.AgeException or IOException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            logger.LogError("Message {MessageId} could not be opened for account {AccountId}: {Error}", message.Id, Session.AccountId, exception.GetType().Name);
            return StatusCode(StatusCodes.Status500InternalServerError);
        }
        // The address shown is the sender's account (the gateway checked that the header From is that address), so
        // a display name alone can never pose as someone else; the name is only what the sender called themselves.
        await using (var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted))
        {
            VerifiedSender = await MailboxQueries.SenderAddressAsync(db, message.Id, HttpContext.RequestAborted) ?? Metadata.FromAddress;
        }
        SenderName = Metadata.FromName.Trim();
        From = SenderName.Length > 0 ? $"{SenderName} <{VerifiedSender}>" : VerifiedSender;
        Attachments = content.Attachments;
        if (content.Html is not null)
        {
            HasRemoteImages = HtmlBodySanitizer.HasRemoteImages(content.Html);
            FrameDocument = HtmlBodySanitizer.FrameDocument(HtmlBodySanitizer.Sanitize(content.Html, ImagesAllowed), ImagesAllowed);
            if (ImagesAllowed)
            {
                Response.Headers.ContentSecurityPolicy = Security.SecurityHeadersMiddleware.DefaultPolicy.Replace("img-src 'self'", "img-src 'self' https: http: data:", StringComparison.Ordinal);
            }
        }
        else
        {
            PlainText = content.PlainText ?? "";
        }
        ExtraTexts = content.ExtraTexts;
        return Page();
    }

    public async Task<IActionResult> OnPostRequestResendAsync(Guid id) =>
        await resendRequests.RequestAsync(Session.AccountId, id, HttpContext.RequestAborted) ? Redirect($"/mailbox/m/{id}") : NotFound();

    /// <summary>Opening shows the message; this POST (sent by <c>read.js</c>, or the button without scripts) marks it read.</summary>
    public async Task<IActionResult> OnPostMarkReadAsync(Guid id) =>
        await queries.SetReadAsync(Session, id, read: true, HttpContext.RequestAborted) ? Redirect($"/mailbox/m/{id}") : NotFound();

    public async Task<IActionResult> OnPostMarkUnreadAsync(Guid id) =>
        await queries.SetReadAsync(Session, id, read: false, HttpContext.RequestAborted) ? Redirect("/mailbox?done=" + MailboxFeedback.MarkedUnread) : NotFound();

    public async Task<IActionResult> OnPostDeleteAsync(Guid id) =>
        await trash.MoveToTrashAsync(Session.AccountId, id, HttpContext.RequestAborted) ? Redirect("/mailbox?done=" + MailboxFeedback.Deleted) : NotFound();

    public async Task<IActionResult> OnPostRestoreAsync(Guid id) =>
        await trash.RestoreAsync(Session.AccountId, id, HttpContext.RequestAborted) ? Redirect("/mailbox/trash?done=" + MailboxFeedback.Restored) : NotFound();

    public async Task<IActionResult> OnPostPurgeAsync(Guid id, [FromForm] bool confirmed)
    {
        if (!confirmed)
        {
            return Redirect($"/mailbox/m/{id}?confirm=purge");
        }
        return await trash.PurgeAsync(Session.AccountId, id, HttpContext.RequestAborted) ? Redirect("/mailbox/trash?done=" + MailboxFeedback.Purged) : NotFound();
    }
}
