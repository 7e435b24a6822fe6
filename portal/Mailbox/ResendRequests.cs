using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Notifications;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// "Be avsändaren skicka igen" for a locked item (its key was replaced in a password reset by SMS): one plain mail to
/// the sender naming the reader's address and the date, never content, at most once per item.
/// </summary>
public sealed class ResendRequests(
    IDbContextFactory<VaultDbContext> vaultFactory, NoticeMail mail, MailTexts texts, ReaderTime readerTime, TimeProvider time, ILogger<ResendRequests> logger)
{
    /// <summary>False when the item is not the account's locked item or has no other sender to ask.</summary>
    public async Task<bool> RequestAsync(Guid accountId, Guid itemId, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var item = await db.MailboxItems.AsNoTracking().SingleOrDefaultAsync(i => i.Id == itemId && i.AccountId == accountId && i.LockedAt != null, cancellationToken);
        var reader = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Email).SingleOrDefaultAsync(cancellationToken);
        var sender = item is null ? null : await MailboxQueries.SenderAddressAsync(db, item.MessageId, cancellationToken);
        if (item is null || reader is null || !CanAsk(sender, reader))
        {
            return false;
        }
        // Conditional update: a second click (or two at once) sends nothing more.
        var now = time.GetUtcNow().UtcDateTime;
        if (await db.MailboxItems.Where(i => i.Id == itemId && i.ResendRequestedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.ResendRequestedAt, now), cancellationToken) == 0)
        {
            return true;
        }
        // In the sender's language when the sender has an account, else Swedish.
        var language = await db.Accounts.Where(a => a.Email == sender).Select(a => a.Language).SingleOrDefaultAsync(cancellationToken);
        var date = ReaderTime.Format(new DateTimeOffset(DateTime.SpecifyKind(item.CreatedAt, DateTimeKind.Utc)), readerTime.DefaultZone, MailTexts.CultureOf(language));
        await mail.QueueAsync(sender!, texts.Get(language, "ResendSubject"), texts.Get(language, "ResendBody", reader, date), cancellationToken);
        logger.LogInformation("Resend of item {ItemId} requested from its sender", itemId);
        return true;
    }

    /// <summary>Only another person can be asked (not the reader's own sent copy, not an unknown sender).</summary>
    public static bool CanAsk(string? sender, string reader) => sender is not null && !string.Equals(sender, reader, StringComparison.OrdinalIgnoreCase);
}
