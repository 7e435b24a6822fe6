using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault.Data;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// The reply form (reply and reply-all, with attachments; Basic may reply). The form posts to
/// <see cref="ReplyUploadEndpoint"/>, which reads it as a stream; errors come back here as <c>?error=</c>.
/// </summary>
public sealed class ReplyPage(SessionStore sessions, MailboxQueries queries, IAntiforgery antiforgery, IOptions<MailboxOptions> options, IDbContextFactory<VaultDbContext> vaultFactory)
    : SignedInPageModel(sessions)
{
    public MailboxItem Item { get; private set; } = null!;

    public MessageMetadata Metadata { get; private set; } = new();

    public bool All { get; private set; }

    public string? Problem { get; private set; }

    public long MaxMegabytes { get; private set; }

    public string FormToken { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(Guid id, [FromQuery] bool all, [FromQuery] string? error)
    {
        var found = await queries.FindAsync(Session, id, HttpContext.RequestAborted);
        if (found is null || found.Value.Item.Folder == Folder.Trash)
        {
            return NotFound();
        }
        Item = found.Value.Item;
        Metadata = await VaultReader.ReadMetadataAsync(Item.EncryptedMetadata, Session.Key, HttpContext.RequestAborted);
        All = all;
        await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
        var plan = (await db.Accounts.FindAsync([Session.AccountId], HttpContext.RequestAborted))!.Plan;
        MaxMegabytes = options.Value.MaxReplyBytes(plan) / (1024 * 1024);
        Problem = error switch
        {
            "invalid" => "ReplyInvalid",
            "toolarge" => "ReplyTooLarge",
            "nobody" => "ReplyNobody",
            _ => null,
        };
        if (Problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        FormToken = antiforgery.GetAndStoreTokens(HttpContext).RequestToken!;
        return Page();
    }
}
