using SecureMailbox.Portal.Accounts.TwoFactor;

namespace SecureMailbox.Portal.Accounts.Recovery;

/// <summary>
/// "Förlorat din authenticator": after password and an SMS or backup code, two-factor sign-in is turned off — the
/// TOTP secret, the backup codes' hashes and their wraps of the key go (<see cref="TwoFactorAccounts.DisableAsync"/>,
/// as in Settings). The password's wrap stays, so nothing is lost.
/// </summary>
public sealed class TwoFactorRecovery(TwoFactorAccounts twoFactor, ILogger<TwoFactorRecovery> logger)
{
    public async Task TurnOffAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await twoFactor.DisableAsync(accountId, cancellationToken);
        logger.LogInformation("Two-factor sign-in turned off for account {AccountId} (lost authenticator)", accountId);
    }
}
