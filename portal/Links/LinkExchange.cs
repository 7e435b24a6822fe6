using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Data;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Links;

/// <summary>What a link token leads to.</summary>
public enum LinkState
{
    /// <summary>Unknown, malformed, expired or already used: one neutral answer for all.</summary>
    Invalid,

    /// <summary>A message for an active account: sign in.</summary>
    SignIn,

    /// <summary>A pending reader's link: exchange it for a pre-session.</summary>
    Pending,

    /// <summary>
    /// A pending reader without a mobile number on file (a sender a receipt or reply goes back to): a link alone never
    /// makes an account, so they register first (mail link + SMS) and then open the link again, unused until then.
    /// </summary>
    RegisterFirst,
}

/// <summary>
/// Turns a notification link into a pre-session (docs/rules.md E5). Looking at a link changes nothing (mail scanners
/// fetch links); only the POST from the link page uses it, once.
/// </summary>
public sealed class LinkExchange(
    IDbContextFactory<VaultDbContext> vaultFactory,
    VaultReader reader,
    PreSessionStore preSessions,
    TimeProvider time,
    ILogger<LinkExchange> logger)
{
    public async Task<LinkState> InspectAsync(string? token, CancellationToken cancellationToken)
    {
        var hash = LinkTokens.Hash(token);
        if (hash is null)
        {
            return LinkState.Invalid;
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var link = await db.Links.AsNoTracking().SingleOrDefaultAsync(l => l.TokenHash == hash, cancellationToken);
        if (link is null || link.ExpiresAt <= time.GetUtcNow().UtcDateTime)
        {
            return LinkState.Invalid;
        }
        if (link.WrappedKey is null)
        {
            return link.Purpose == LinkPurpose.SignIn ? LinkState.SignIn : LinkState.Invalid;
        }
        if (link.UsedAt is not null)
        {
            return LinkState.Invalid;
        }
        if (link.Phone is null && !await db.Accounts.AnyAsync(a => a.Id == link.AccountId && a.State == AccountState.Active, cancellationToken))
        {
            return LinkState.RegisterFirst;
        }
        return LinkState.Pending;
    }

    /// <summary>For a sign-in link: the reader's mailbox item of the message (where to go after signing in).</summary>
    public async Task<Guid?> SignInTargetAsync(string? token, CancellationToken cancellationToken)
    {
        var hash = LinkTokens.Hash(token);
        if (hash is null)
        {
            return null;
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var link = await db.Links.AsNoTracking().SingleOrDefaultAsync(l => l.TokenHash == hash && l.Purpose == LinkPurpose.SignIn, cancellationToken);
        return link is null ? null : await db.MailboxItems.Where(i => i.AccountId == link.AccountId && i.MessageId == link.MessageId)
            .Select(i => (Guid?)i.Id).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Whether a link was sent to the message's own sender (the "sent securely" receipt), so its page speaks to the sender.</summary>
    public async Task<bool> IsSenderLinkAsync(string? token, CancellationToken cancellationToken)
    {
        var hash = LinkTokens.Hash(token);
        if (hash is null)
        {
            return false;
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        return await db.Links.AsNoTracking().Where(l => l.TokenHash == hash)
            .Join(db.MailboxItems, l => new { l.AccountId, l.MessageId }, i => new { i.AccountId, i.MessageId }, (l, i) => i.Folder)
            .AnyAsync(folder => folder == Folder.Sent, cancellationToken);
    }

    /// <summary>Uses a pending link once: marks it used and starts a pre-session holding its key. Null when it cannot be used.</summary>
    public async Task<PreSession?> ExchangeAsync(HttpContext context, string? token, CancellationToken cancellationToken)
    {
        if (await InspectAsync(token, cancellationToken) != LinkState.Pending)
        {
            return null;
        }
        using var unlocked = await reader.UnlockLinkAsync(token!, cancellationToken);
        if (unlocked?.Key is null)
        {
            return null;
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        // Single use, also against two requests racing: only the one that flips UsedAt goes on.
        var claimed = await db.Links.Where(l => l.Id == unlocked.Link.Id && l.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now), cancellationToken);
        if (claimed != 1)
        {
            return null;
        }
        logger.LogInformation("Link {LinkId} exchanged for a pre-session", unlocked.Link.Id);
        return await preSessions.CreateAsync(context, unlocked.Link, unlocked.Key, cancellationToken);
    }
}
