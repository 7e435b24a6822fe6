using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Links;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts;

/// <summary>
/// The end of every sign-in (password only, or password and second factor): the session starts, the language cookie
/// is set, and a pre-session from a later link for the same account is claimed into the account. Returns where to go.
/// </summary>
public sealed class SignInCompletion(
    SessionStore sessions,
    PreSessionStore preSessions,
    AccountKeys keys,
    CookiePolicy cookies,
    Security.SecurityEvents events,
    IDbContextFactory<VaultDbContext> vaultFactory)
{
    public async Task<string> CompleteAsync(HttpContext context, Account account, AgeIdentity key, string returnUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(account);
        await sessions.StartAsync(context, account.Id, key, cancellationToken);
        await events.RecordAsync(account.Id, Data.SecurityEventKind.SignedIn, context, cancellationToken);
        PortalLocalizationServiceCollectionExtensions.SetLanguageCookie(context, cookies, account.Language);
        var preSession = await preSessions.FindAsync(context, cancellationToken);
        if (preSession is not null && preSession.AccountId == account.Id)
        {
            using var linkKey = preSessions.UnlockLinkKey(context, preSession);
            if (linkKey is not null)
            {
                await keys.ClaimAsync(account.Id, preSession.LinkId, linkKey, AgeRecipient.Parse(account.PublicKey!), cancellationToken);
            }
            await preSessions.EndAsync(context, preSession.Id, cancellationToken);
            await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
            var itemId = await db.MailboxItems.Where(i => i.AccountId == account.Id && i.MessageId == preSession.MessageId)
                .Select(i => (Guid?)i.Id).FirstOrDefaultAsync(cancellationToken);
            return itemId is null ? "/mailbox" : $"/mailbox/m/{itemId}";
        }
        return returnUrl == "/claim" ? "/mailbox" : returnUrl;
    }
}
