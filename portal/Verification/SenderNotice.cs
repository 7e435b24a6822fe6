using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Notifications;
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
    NoticeMail mail,
    MailTexts texts,
    ReaderTime readerTime,
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
        var sent = ReaderTime.Format(new DateTimeOffset(DateTime.SpecifyKind(message!.CreatedAt, DateTimeKind.Utc)), readerTime.DefaultZone, MailTexts.CultureOf(sender.Language));
        await mail.QueueAsync(sender.Email, texts.Get(sender.Language, "NoSmsSubject"), texts.Get(sender.Language, "NoSmsBody", recipient.Email, masked, sent), cancellationToken);
        logger.LogInformation("Sender of message {MessageId} notified that the recipient's number seems wrong", preSession.MessageId);
        return true;
    }
}
