using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Localization;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// Reply and reply-all with attachments (Basic may reply). Uploads are capped at 25 MB per reply and held in memory
/// while the reply is encrypted, so no plaintext upload is ever spooled to a temp file (Professional's 500 MB needs
/// a streamed upload path, which composing adds later).
/// </summary>
[RequestSizeLimit(MaxBytes)]
[RequestFormLimits(MultipartBodyLengthLimit = MaxBytes, MemoryBufferThreshold = MaxBytes)]
public sealed class ReplyPage(SessionStore sessions, MailboxQueries queries, ReplyService replies, IStringLocalizer<SharedResource> texts)
    : SignedInPageModel(sessions)
{
    public const int MaxBytes = 26 * 1024 * 1024;

    public MailboxItem Item { get; private set; } = null!;

    public MessageMetadata Metadata { get; private set; } = new();

    public bool All { get; private set; }

    public string? Problem { get; private set; }

    public int MaxMegabytes => 25;

    public async Task<IActionResult> OnGetAsync(Guid id, [FromQuery] bool all) => await LoadAsync(id, all) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(Guid id, [FromForm] bool all, [FromForm] string? body, [FromForm] List<IFormFile>? files)
    {
        if (!await LoadAsync(id, all))
        {
            return NotFound();
        }
        files ??= [];
        if (string.IsNullOrWhiteSpace(body) || body.Length > 200_000 || files.Count > 20 || files.Sum(f => f.Length) > MaxMegabytes * 1024L * 1024)
        {
            Problem = texts["ReplyInvalid"];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        var clean = new string(body.Where(c => c is '\n' or '\r' or '\t' || !char.IsControl(c)).ToArray());
        var attachments = files.Where(f => f.Length > 0)
            .Select(f => new ReplyAttachment(f.FileName, f.ContentType ?? "application/octet-stream", f.OpenReadStream)).ToList();
        var result = await replies.ReplyAsync(Session, Item, Metadata, all, clean, attachments, HttpContext.RequestAborted);
        if (!result.Stored)
        {
            Problem = texts["ReplyNobody"];
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return Page();
        }
        return Redirect(result.Refused.Count == 0 ? "/mailbox/sent" : $"/mailbox/sent?notReached={result.Refused.Count}");
    }

    private async Task<bool> LoadAsync(Guid id, bool all)
    {
        var found = await queries.FindAsync(Session, id, HttpContext.RequestAborted);
        if (found is null || found.Value.Item.Folder == Folder.Trash)
        {
            return false;
        }
        Item = found.Value.Item;
        Metadata = await VaultReader.ReadMetadataAsync(Item.EncryptedMetadata, Session.Key, HttpContext.RequestAborted);
        All = all;
        return true;
    }
}
