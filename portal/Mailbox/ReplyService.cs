using Microsoft.EntityFrameworkCore;
using MimeKit;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Notifications;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Portal.Mailbox;

public sealed record ReplyResult(bool Stored, IReadOnlyList<string> Refused);

/// <summary>
/// Replies (and reply-all) from the portal: a MIME message built with MimeKit, stored once in the vault for the
/// original sender and the other participants (the replier is the sender), and neutral notifications staged in the
/// same transaction, exactly as the gateway does for incoming secure mail.
/// </summary>
public sealed class ReplyService(
    IDbContextFactory<VaultDbContext> vaultFactory,
    VaultWriter writer,
    NotificationStager notifications,
    TimeProvider time,
    ILogger<ReplyService> logger)
{
    /// <summary>
    /// Stores a reply whose attachments are read from <paramref name="nextFile"/> while the message is encrypted: the
    /// MIME message is written part by part (headers with MimeKit, file content base64-encoded as it streams in).
    /// </summary>
    public async Task<ReplyResult> ReplyStreamingAsync(
        SignedInSession session, MailboxItem original, MessageMetadata originalMetadata, bool replyAll, string body,
        Func<Task<ReplyFile?>> nextFile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(originalMetadata);
        ArgumentNullException.ThrowIfNull(nextFile);
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var me = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == session.AccountId, cancellationToken);
        var originalMessage = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == original.MessageId, cancellationToken);
        var originalSender = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == originalMessage.SenderAccountId, cancellationToken);
        var (to, cc) = Addressees(me.Email, originalSender, originalMetadata, replyAll);
        var subject = originalMetadata.Subject.StartsWith("Re:", StringComparison.OrdinalIgnoreCase) ? originalMetadata.Subject : "Re: " + originalMetadata.Subject;
        using var headers = new MimeMessage();
        headers.From.Add(new MailboxAddress("", me.Email));
        headers.To.AddRange(to);
        headers.Cc.AddRange(cc);
        headers.Subject = subject;
        headers.Date = time.GetUtcNow();
        headers.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("securemailbox.local");
        var metadata = new MessageMetadata
        {
            Subject = subject,
            FromAddress = me.Email,
            To = to.Select(a => a.ToString()).ToList(),
            Cc = cc.Select(a => a.ToString()).ToList(),
            Date = headers.Date,
        };
        var recipients = to.Concat(cc).Select(a => new RecipientRequest(a.Address, null,
            MailboxProvesIdentity: string.Equals(VaultWriter.Normalise(a.Address), originalSender.Email, StringComparison.Ordinal))).ToList();
        var messageId = Guid.NewGuid();
        // The metadata is serialised by StoreAsync after the payload is written, so the attachment list filled in
        // while streaming is the one stored.
        var result = await writer.StoreAsync(messageId, me.Email, recipients, metadata,
            (stream, ct) => WriteMimeAsync(stream, headers, body, nextFile, metadata, ct),
            (db2, stored, ct) => StageNotificationsAsync(db2, me, stored, subject, ct),
            cancellationToken, inReplyTo: original.MessageId);
        logger.LogInformation("Reply {MessageId} from account {AccountId}: {Readers} readers, {Refused} refused", messageId, me.Id, result.Readers.Count, result.Refused.Count);
        return new ReplyResult(result.Readers.Any(r => !r.IsSender), result.Refused.Select(r => r.Address).ToList());
    }

    private static (List<MailboxAddress> To, List<MailboxAddress> Cc) Addressees(string me, Account originalSender, MessageMetadata original, bool replyAll)
    {
        var to = new List<MailboxAddress>();
        var cc = new List<MailboxAddress>();
        var iSentIt = string.Equals(originalSender.Email, me, StringComparison.Ordinal);
        if (!iSentIt)
        {
            to.Add(new MailboxAddress(original.FromName, originalSender.Email));
        }
        if (replyAll || iSentIt)
        {
            foreach (var text in original.To.Concat(original.Cc))
            {
                if (MailboxAddress.TryParse(text, out var address)
                    && !string.Equals(VaultWriter.Normalise(address.Address), me, StringComparison.Ordinal)
                    && !to.Concat(cc).Any(a => string.Equals(VaultWriter.Normalise(a.Address), VaultWriter.Normalise(address.Address), StringComparison.Ordinal)))
                {
                    (to.Count == 0 ? to : cc).Add(address);
                }
            }
        }
        return (to, cc);
    }

    private static async Task WriteMimeAsync(Stream output, MimeMessage headers, string body, Func<Task<ReplyFile?>> nextFile, MessageMetadata metadata, CancellationToken cancellationToken)
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        var boundary = "=-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using var multipart = new Multipart("mixed") { Boundary = boundary };
        // HeaderList.WriteTo ends the block with the empty line, so the top-level MIME headers join the message's.
        var top = new HeaderList();
        foreach (var header in headers.Headers)
        {
            top.Add(header.Clone());
        }
        top.Add(new Header(HeaderId.MimeVersion, "1.0"));
        foreach (var header in multipart.Headers)
        {
            top.Add(header.Clone());
        }
        await top.WriteToAsync(format, output, cancellationToken);
        await WriteAsciiAsync(output, $"--{boundary}\r\n", cancellationToken);
        using (var text = new TextPart("plain") { Text = body })
        {
            text.ContentTransferEncoding = ContentEncoding.QuotedPrintable;
            await text.WriteToAsync(format, output, cancellationToken);
        }
        while (await nextFile() is { } file)
        {
            var fileName = MessageContent.CleanFileName(file.FileName);
            var type = ContentType.TryParse(file.ContentType, out var parsed) ? parsed : new ContentType("application", "octet-stream");
            using var part = new MimePart(type)
            {
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                FileName = fileName,
            };
            metadata.Attachments.Add(new AttachmentInfo { FileName = fileName, ContentType = type.MimeType });
            await WriteAsciiAsync(output, $"\r\n--{boundary}\r\n", cancellationToken);
            await part.Headers.WriteToAsync(format, output, cancellationToken);
            // Not disposed: disposing a FilteredStream would close the output; flushing ends the base64.
#pragma warning disable CA2000
            var encoded = new MimeKit.IO.FilteredStream(output);
#pragma warning restore CA2000
            encoded.Add(MimeKit.IO.Filters.EncoderFilter.Create(ContentEncoding.Base64));
            encoded.Add(new MimeKit.IO.Filters.Unix2DosFilter());
            await file.Content.CopyToAsync(encoded, 64 * 1024, cancellationToken);
            await encoded.FlushAsync(cancellationToken);
        }
        await WriteAsciiAsync(output, $"\r\n--{boundary}--\r\n", cancellationToken);
    }

    private static Task WriteAsciiAsync(Stream output, string text, CancellationToken cancellationToken) =>
        output.WriteAsync(System.Text.Encoding.ASCII.GetBytes(text), cancellationToken).AsTask();

    private async Task StageNotificationsAsync(VaultDbContext db, Account sender, StoreResult stored, string subject, CancellationToken cancellationToken)
    {
        var index = 0;
        foreach (var reader in stored.Readers.Where(r => !r.IsSender))
        {
            await notifications.StageAsync(db, reader, NotificationKind.NewMessage, sender.Email, subject, $"{stored.MessageId:N}n{index++}", cancellationToken);
        }
    }
}
