using Microsoft.EntityFrameworkCore;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Accounts;

public enum SignInOutcome
{
    Success,
    Failed,
    Throttled,

    /// <summary>Password right, a second factor is due (the TOTP issue plugs in here).</summary>
    SecondFactorRequired,
}

/// <param name="FailedAccountId">For a wrong password on an existing account: whose security log records it.</param>
public sealed record SignInResult(SignInOutcome Outcome, Account? Account, AgeIdentity? Key, Guid? FailedAccountId = null);

/// <summary>Configuration section <c>SignIn</c> (docs/rules.md A4).</summary>
public sealed class SignInOptions
{
    public const string Section = "SignIn";

    [System.ComponentModel.DataAnnotations.Range(1, 100)]
    public int MaxFailuresPerAccountPerHour { get; set; } = 20;

    [System.ComponentModel.DataAnnotations.Range(1, 10000)]
    public int MaxFailuresPerIpPerHour { get; set; } = 50;
}

/// <summary>
/// E-mail + password. Unknown addresses, pending accounts and wrong passwords get the same answer after the same
/// work (one Argon2id unwrap, against a dummy key when there is no account: docs/rules.md A12).
/// </summary>
public sealed class SignInService(
    IDbContextFactory<VaultDbContext> vaultFactory,
    RateLimits limits,
    RateLimitPolicies policies,
    TwoFactor.TwoFactorAccounts twoFactor,
    ILogger<SignInService> logger)
{
    private static readonly Lazy<byte[]> DummyWrappedKey = new(() =>
    {
        using var dummy = AgeIdentity.Generate();
        return PrivateKeyWrap.WrapWithPassword(dummy, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)), KeyWrapPurpose.Password, "dummy");
    });

    public async Task<SignInResult> SignInAsync(string? email, string? password, string clientIp, CancellationToken cancellationToken)
    {
        var address = VaultWriter.Normalise(email ?? "");
        if (address.Length > 320 || address.Any(char.IsControl))
        {
            address = "";
        }
        // The attempt is counted as a failure before the password is checked (and given back when it was right), so
        // parallel guesses can never check more passwords than the limits allow.
        if (!await limits.TryTakeAllAsync(cancellationToken, (policies.SignInFailuresPerIp, clientIp), (policies.SignInFailuresPerAccount, address)))
        {
            logger.LogWarning("Sign-in throttled for {Ip}", clientIp);
            return new SignInResult(SignInOutcome.Throttled, null, null);
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var account = address.Length == 0 ? null : await db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Email == address && a.State == AccountState.Active, cancellationToken);
        var wrapped = account is null ? null : await db.AccountKeys.AsNoTracking()
            .Where(k => k.AccountId == account.Id && k.Kind == AccountKeyKind.Password).Select(k => k.WrappedKey).FirstOrDefaultAsync(cancellationToken);
        var usable = !string.IsNullOrEmpty(password) && password.Length <= PasswordPolicy.MaximumLength;
        try
        {
            var key = PrivateKeyWrap.UnwrapIdentityWithPassword(wrapped ?? DummyWrappedKey.Value, usable ? password! : "-", KeyWrapPurpose.Password,
                account is null ? "dummy" : AccountKeys.PasswordKeyId(account.Id));
            if (account is null || wrapped is null || !usable)
            {
                key.Dispose();
            }
            else
            {
                // Second factor: the key goes only into the pending sign-in's cookie-wrapped state; the failure
                // counter is cleared once the second step succeeds (SecondFactorSucceededAsync).
                await limits.GiveBackAsync(policies.SignInFailuresPerIp, clientIp, cancellationToken);
                if (await twoFactor.IsEnabledAsync(account.Id, cancellationToken))
                {
                    // A right password is no failure, but earlier failures stand until the second factor is right too.
                    await limits.GiveBackAsync(policies.SignInFailuresPerAccount, address, cancellationToken);
                    return new SignInResult(SignInOutcome.SecondFactorRequired, account, key);
                }
                await limits.ClearAsync(policies.SignInFailuresPerAccount, address, cancellationToken);
                return new SignInResult(SignInOutcome.Success, account, key);
            }
        }
        catch (KeyUnwrapException)
        {
        }
        logger.LogInformation("Failed sign-in from {Ip}", clientIp);
        return new SignInResult(SignInOutcome.Failed, null, null, account?.Id);
    }

    /// <summary>Whether the account or this address is over the failure limits (checked again at the second step).</summary>
    public async Task<bool> IsThrottledAsync(string email, string clientIp, CancellationToken cancellationToken) =>
        await limits.IsExhaustedAsync(policies.SignInFailuresPerIp, clientIp, cancellationToken)
        || await limits.IsExhaustedAsync(policies.SignInFailuresPerAccount, VaultWriter.Normalise(email), cancellationToken);

    /// <summary>
    /// Takes one attempt at a second factor (TOTP, backup code, SMS code in recovery) from the same limits as a
    /// password, before the code is checked; false (nothing to check) when the limits are used up.
    /// </summary>
    public Task<bool> TrySecondFactorAttemptAsync(string email, string clientIp, CancellationToken cancellationToken) =>
        limits.TryTakeAllAsync(cancellationToken, (policies.SignInFailuresPerIp, clientIp), (policies.SignInFailuresPerAccount, VaultWriter.Normalise(email)));

    /// <summary>A wrong second factor counts like a wrong password (its attempt was taken already).</summary>
    public void SecondFactorFailed(string clientIp) => logger.LogInformation("Failed second factor from {Ip}", clientIp);

    /// <summary>A right second factor ends the account's failures and returns the attempt taken from the address.</summary>
    public async Task SecondFactorSucceededAsync(string email, string clientIp, CancellationToken cancellationToken)
    {
        await limits.GiveBackAsync(policies.SignInFailuresPerIp, clientIp, cancellationToken);
        await limits.ClearAsync(policies.SignInFailuresPerAccount, VaultWriter.Normalise(email), cancellationToken);
    }

    /// <summary>Re-checks the password of a signed-in account (export, sensitive settings).</summary>
    public async Task<bool> VerifyPasswordAsync(Guid accountId, string? password, string clientIp, CancellationToken cancellationToken)
    {
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var email = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Email).SingleAsync(cancellationToken);
        var result = await SignInAsync(email, password, clientIp, cancellationToken);
        result.Key?.Dispose();
        return result.Outcome is SignInOutcome.Success or SignInOutcome.SecondFactorRequired;
    }
}
