using Microsoft.EntityFrameworkCore;
using MimeKit;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Notifications;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>An uploaded file for a reply.</summary>
public sealed record ReplyAttachment(string FileName, string ContentType, Func<Stream> Open);

public sealed record ReplyResult(bool Stored, IReadOnlyList<string> Refused);

/// <summary>
/// Replies (and reply-all) from the portal: a MIME message built with MimeKit, stored once in the vault for the
/// original sender and the other participants (the replier is the sender), and neutral notifications staged in the
/// same transaction, exactly as the gateway does for incoming secure mail.
/// </summary>
public sealed class ReplyService(
    IDbContextFactory<VaultDbContext> vaultFactory,
    VaultWriter writer,
    OutboundQueue queue,
    NotificationComposer notifications,
    TimeProvider time,
    ILogger<ReplyService> logger)
{
    public async Task<ReplyResult> ReplyAsync(
        SignedInSession session, MailboxItem original, MessageMetadata originalMetadata, bool replyAll, string body,
        IReadOnlyList<ReplyAttachment> attachments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(originalMetadata);
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var me = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == session.AccountId, cancellationToken);
        var originalMessage = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == original.MessageId, cancellationToken);
        var originalSender = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == originalMessage.SenderAccountId, cancellationToken);

        var to = new List<MailboxAddress>();
        var senderAddress = originalSender.Email == me.Email && originalMetadata.To.Count > 0
            ? null
            : new MailboxAddress(originalMetadata.FromName, originalSender.Email);
        if (senderAddress is not null)
        {
            to.Add(senderAddress);
        }
        var cc = new List<MailboxAddress>();
        if (replyAll || senderAddress is null)
        {
            foreach (var text in originalMetadata.To.Concat(originalMetadata.Cc))
            {
                if (MailboxAddress.TryParse(text, out var address) && !string.Equals(VaultWriter.Normalise(address.Address), me.Email, StringComparison.Ordinal)
                    && !to.Concat(cc).Any(a => string.Equals(VaultWriter.Normalise(a.Address), VaultWriter.Normalise(address.Address), StringComparison.Ordinal)))
                {
                    (senderAddress is null && to.Count == 0 ? to : cc).Add(address);
                }
            }
        }
        var subject = originalMetadata.Subject.StartsWith("Re:", StringComparison.OrdinalIgnoreCase) ? originalMetadata.Subject : "Re: " + originalMetadata.Subject;
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("", me.Email));
        message.To.AddRange(to);
        message.Cc.AddRange(cc);
        message.Subject = subject;
        message.Date = time.GetUtcNow();
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("securemailbox.local");
        var builder = new BodyBuilder { TextBody = body };
        var opened = new List<Stream>();
        try
        {
            foreach (var attachment in attachments)
            {
                var stream = attachment.Open();
                opened.Add(stream);
                var type = ContentType.TryParse(attachment.ContentType, out var parsed) ? parsed : new ContentType("application", "octet-stream");
                var part = new MimePart(type)
                {
                    Content = new MimeContent(stream),
                    ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                    ContentTransferEncoding = ContentEncoding.Base64,
                    FileName = MessageContent.CleanFileName(attachment.FileName),
                };
                builder.Attachments.Add(part);
            }
            message.Body = builder.ToMessageBody();
            var metadata = new MessageMetadata
            {
                Subject = subject,
                FromAddress = me.Email,
                To = to.Select(a => a.ToString()).ToList(),
                Cc = cc.Select(a => a.ToString()).ToList(),
                Date = message.Date,
                Attachments = attachments.Select(a => new AttachmentInfo { FileName = MessageContent.CleanFileName(a.FileName), ContentType = a.ContentType }).ToList(),
            };
            var recipients = to.Concat(cc).Select(a => new RecipientRequest(a.Address, null,
                MailboxProvesIdentity: string.Equals(VaultWriter.Normalise(a.Address), originalSender.Email, StringComparison.Ordinal))).ToList();
            var format = FormatOptions.Default.Clone();
            format.NewLineFormat = NewLineFormat.Dos;
            var messageId = Guid.NewGuid();
            var result = await writer.StoreAsync(messageId, me.Email, recipients, metadata,
                (stream, ct) => message.WriteToAsync(format, stream, ct),
                (db2, stored, ct) => StageNotificationsAsync(db2, me, stored, subject, ct),
                cancellationToken, inReplyTo: original.MessageId);
            logger.LogInformation("Reply {MessageId} from account {AccountId}: {Readers} readers, {Refused} refused", messageId, me.Id, result.Readers.Count, result.Refused.Count);
            return new ReplyResult(result.Readers.Any(r => !r.IsSender), result.Refused.Select(r => r.Address).ToList());
        }
        finally
        {
            foreach (var stream in opened)
            {
                await stream.DisposeAsync();
            }
        }
    }

    private async Task StageNotificationsAsync(VaultDbContext db, Account sender, StoreResult stored, string subject, CancellationToken cancellationToken)
    {
        var index = 0;
        foreach (var reader in stored.Readers.Where(r => !r.IsSender))
        {
            using var notification = notifications.Compose(NotificationKind.NewMessage, reader.Address, reader.Account.Language, sender.Email,
                reader.Account.ShowSubjectInNotifications ? subject : null, reader.Token);
            var id = $"{stored.MessageId:N}n{index++}";
            var contentName = await queue.WriteContentAsync(id, (stream, ct) => notification.WriteToAsync(FormatOptions.Default, stream, ct), cancellationToken);
            queue.Stage(db, new OutboundMessage
            {
                Id = id,
                Kind = OutboundKind.Notification,
                EnvelopeFrom = notification.From.Mailboxes.First().Address,
                ContentPath = contentName,
                ContentLength = new FileInfo(queue.ContentPathOf(contentName)).Length,
                Recipients = [new OutboundRecipient { Address = reader.Address }],
            });
        }
    }
}
