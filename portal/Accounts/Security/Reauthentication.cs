using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Accounts.TwoFactor;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Accounts.Security;

public enum ReauthenticationOutcome
{
    Confirmed,
    WrongPassword,
    WrongSecondFactor,
    Throttled,
}

/// <summary>
/// Password and, when 2FA is on, a code from the app or a backup code, again, before changing the password, the
/// phone, 2FA or deleting the account (docs/rules.md A13). Failures count towards the sign-in throttling (A4), so a
/// stolen session cannot guess; success marks the session for <see cref="SessionStore.ReauthenticationWindow"/>.
/// </summary>
public sealed class Reauthentication(
    SessionStore sessions,
    SignInService signIn,
    TwoFactorAccounts twoFactor,
    BackupCodes backupCodes,
    SecurityEvents events,
    IDbContextFactory<VaultDbContext> vaultFactory)
{
    public Task<bool> IsTwoFactorOnAsync(SignedInSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return twoFactor.IsEnabledAsync(session.AccountId, cancellationToken);
    }

    public async Task<ReauthenticationOutcome> ConfirmAsync(
        HttpContext context, SignedInSession session, string? password, string? code, string? backupCode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(session);
        var ip = RateLimits.ClientIp(context);
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var email = await vault.Accounts.Where(a => a.Id == session.AccountId).Select(a => a.Email).SingleAsync(cancellationToken);
        if (await signIn.IsThrottledAsync(email, ip, cancellationToken))
        {
            return ReauthenticationOutcome.Throttled;
        }
        if (!await signIn.VerifyPasswordAsync(session.AccountId, password, ip, cancellationToken))
        {
            await events.RecordAsync(session.AccountId, SecurityEventKind.SignInFailed, context, cancellationToken);
            return ReauthenticationOutcome.WrongPassword;
        }
        if (await twoFactor.IsEnabledAsync(session.AccountId, cancellationToken))
        {
            if (!await signIn.TrySecondFactorAttemptAsync(email, ip, cancellationToken))
            {
                return ReauthenticationOutcome.Throttled;
            }
            var passed = false;
            if (!string.IsNullOrWhiteSpace(code))
            {
                passed = await twoFactor.VerifyAsync(session.AccountId, code, cancellationToken);
            }
            else if (!string.IsNullOrWhiteSpace(backupCode))
            {
                using var key = await backupCodes.UseAsync(session.AccountId, backupCode, cancellationToken);
                passed = key is not null;
                if (passed)
                {
                    await events.RecordAsync(session.AccountId, SecurityEventKind.BackupCodeUsed, context, cancellationToken);
                }
            }
            if (!passed)
            {
                signIn.SecondFactorFailed(ip);
                await events.RecordAsync(session.AccountId, SecurityEventKind.SecondFactorFailed, context, cancellationToken);
                return ReauthenticationOutcome.WrongSecondFactor;
            }
        }
        await signIn.SecondFactorSucceededAsync(email, ip, cancellationToken);
        await sessions.MarkReauthenticatedAsync(session, cancellationToken);
        await events.RecordAsync(session.AccountId, SecurityEventKind.Reauthenticated, context, cancellationToken);
        return ReauthenticationOutcome.Confirmed;
    }
}
