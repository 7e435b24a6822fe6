using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Portal.Data;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Notifications;
using SecureMailbox.Vault.Outbound;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Verification;

/// <summary>
/// "Didn't get an SMS? Notify the sender" (FAQ "Meddela avsändaren"): a mail to the message's sender saying that the
/// number they gave seems wrong. It names the recipient's address and the masked number, never the message.
/// Once per pre-session.
/// </summary>
public sealed class SenderNotice(
    IDbContextFactory<VaultDbContext> vaultFactory,
    IDbContextFactory<PortalDbContext> portalFactory,
    OutboundQueue queue,
    IOptions<SecureDeliveryOptions> delivery,
    TimeProvider time,
    ILogger<SenderNotice> logger)
{
    public async Task<bool> SendAsync(PreSession preSession, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(preSession);
        await using var portal = await portalFactory.CreateDbContextAsync(cancellationToken);
        var claimed = await portal.PreSessions.Where(p => p.Id == preSession.Id && !p.SenderNotified)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.SenderNotified, true), cancellationToken);
        if (claimed != 1)
        {
            return false;
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var message = await db.Messages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == preSession.MessageId, cancellationToken);
        var recipient = await db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == preSession.AccountId, cancellationToken);
        var sender = message is null ? null : await db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == message.SenderAccountId, cancellationToken);
        if (sender is null || recipient is null)
        {
            return false;
        }
        var masked = preSession.Phone is null ? "-" : PhoneNumberRules.Mask(preSession.Phone);
        using var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress(delivery.Value.NotificationFromName, delivery.Value.NotificationFrom));
        mail.To.Add(MailboxAddress.Parse(sender.Email));
        mail.Subject = "SecureMailbox: mottagaren fick ingen SMS-kod / the recipient got no SMS code";
        mail.Date = time.GetUtcNow();
        mail.Headers.Add(NotificationComposer.ProcessedHeader, "notice");
        mail.Body = new TextPart("plain")
        {
            Text =
                $"Mottagaren {recipient.Email} har inte fått någon SMS-kod till numret {masked} för ett säkert meddelande du skickade {message!.CreatedAt:yyyy-MM-dd HH:mm} UTC.\n" +
                "Kontrollera mottagarens mobilnummer och skicka meddelandet igen med rätt nummer.\n\n" +
                $"The recipient {recipient.Email} has not received an SMS code at {masked} for a secure message you sent on {message.CreatedAt:yyyy-MM-dd HH:mm} UTC.\n" +
                "Please check the recipient's mobile number and send the message again with the right number.\n",
        };
        var id = queue.NewId() + "s";
        var contentName = await queue.WriteContentAsync(id, (stream, ct) => mail.WriteToAsync(FormatOptions.Default, stream, ct), cancellationToken);
        await queue.EnqueueAsync(new OutboundMessage
        {
            Id = id,
            Kind = OutboundKind.Notification,
            EnvelopeFrom = delivery.Value.NotificationFrom,
            ContentPath = contentName,
            ContentLength = new FileInfo(queue.ContentPathOf(contentName)).Length,
            Recipients = [new OutboundRecipient { Address = sender.Email }],
        }, cancellationToken);
        logger.LogInformation("Sender of message {MessageId} notified that the recipient's number seems wrong", preSession.MessageId);
        return true;
    }
}
