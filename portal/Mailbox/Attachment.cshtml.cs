using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// Downloads one attachment, streamed: the decrypted MIME stream is parsed as it is read and the attachment's decoded
/// bytes go straight to the response (docs/rules.md E3: attachment disposition with an RFC 6266 file name, nosniff).
/// A first pass reads the whole message, so a tampered message fails before the first byte is sent.
/// </summary>
public sealed class AttachmentPage(SessionStore sessions, MailboxQueries queries, VaultReader reader, ILogger<AttachmentPage> logger)
    : SignedInPageModel(sessions)
{
    public async Task<IActionResult> OnGetAsync(Guid id, int index)
    {
        var found = await queries.FindAsync(Session, id, HttpContext.RequestAborted);
        if (found is null || index < 0)
        {
            return NotFound();
        }
        var (item, message) = found.Value;
        AttachmentPart? part;
        try
        {
            await using var first = reader.OpenMessage(message, item.Stanza, Session.Key);
            part = await MessageContent.FindAttachmentAsync(first, index, HttpContext.RequestAborted);
        }
        catch (Exception exception) when (exception is SecureMailbox.Vault.Crypto.AgeException or IOException or FormatException)
        {
            logger.LogError("Message {MessageId} could not be opened for account {AccountId}: {Error}", message.Id, Session.AccountId, exception.GetType().Name);
            return StatusCode(StatusCodes.Status500InternalServerError);
        }
        if (part is null)
        {
            return NotFound();
        }
        HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(part.FileName);
        Response.Headers.ContentDisposition = disposition.ToString();
        Response.ContentType = "application/octet-stream";
        Response.Headers.XContentTypeOptions = "nosniff";
        Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        await using var second = reader.OpenMessage(message, item.Stanza, Session.Key);
        if (part is { RawStart: { } start, RawEnd: { } end })
        {
            await MessageContent.CopyRangeAsync(second, start, end, Response.Body, HttpContext.RequestAborted);
        }
        else
        {
            await MessageContent.StreamAttachmentAsync(second, index, Response.Body, HttpContext.RequestAborted);
        }
        return new EmptyResult();
    }
}
