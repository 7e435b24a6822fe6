using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Notices;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Portal.Verification;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Phones;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Portal.Registration;

public enum RegistrationRequestOutcome
{
    /// <summary>A mail went to the address (a link, or "you already have an account"): the same answer for both.</summary>
    Mailed,
    InvalidEmail,
    InvalidPhone,
    Limited,
}

/// <summary>
/// Anyone can create a free Basic account (FAQ "Kan vem som helst skapa ett konto?"). The address is proven by a
/// one-time link mailed to it, the mobile number by an SMS code (the verification code rules), then a password is
/// chosen and the account gets its own key pair. An address that already has an account gets a mail saying so
/// instead of a link, and the page answers the same either way (docs/rules.md A12).
/// </summary>
public sealed class RegistrationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IDbContextFactory<VaultDbContext> vaultFactory,
    PhoneNumberRules phones,
    RateLimits limits,
    NoticeMail mail,
    SmsCodes smsCodes,
    AccountKeys keys,
    CookiePolicy cookies,
    IOptions<PortalOptions> portal,
    IOptions<BlobStorageOptions> storage,
    TimeProvider time,
    ILogger<RegistrationService> logger)
{
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(24);

    public static readonly TimeSpan CookieLifetime = TimeSpan.FromMinutes(30);

    private string CookieName => cookies.Prefix + "register";

    public async Task<RegistrationRequestOutcome> RequestAsync(string? email, string? phone, string clientIp, CancellationToken cancellationToken)
    {
        var address = ValidAddress(email);
        if (address is null)
        {
            return RegistrationRequestOutcome.InvalidEmail;
        }
        var number = phones.Check(phone is { Length: <= 40 } ? phone : null);
        if (!number.IsValid)
        {
            return RegistrationRequestOutcome.InvalidPhone;
        }
        if (!await limits.TryTakeAllAsync(cancellationToken, (RateLimitPolicies.RegistrationPerIp, clientIp), (RateLimitPolicies.RegistrationPerAddress, address)))
        {
            return RegistrationRequestOutcome.Limited;
        }
        await using var vault = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var active = await vault.Accounts.AnyAsync(a => a.Email == address && a.State == AccountState.Active, cancellationToken);
        if (active)
        {
            await mail.QueueAsync(address, "SecureMailbox: du har redan ett konto / you already have an account",
                "Någon (förhoppningsvis du) försökte skapa ett SecureMailbox-konto för den här adressen, men den har redan ett konto.\n" +
                $"Logga in på {portal.Value.UrlFor("/signin")}. Har du glömt lösenordet? Använd \"Glömt ditt lösenord\" på inloggningssidan.\n" +
                "Var det inte du behöver du inte göra något.\n\n" +
                "Someone (hopefully you) tried to create a SecureMailbox account for this address, but it already has one.\n" +
                $"Sign in at {portal.Value.UrlFor("/signin")}. Forgot your password? Use \"Forgot your password\" on the sign-in page.\n" +
                "If it wasn't you, there is nothing to do.\n", cancellationToken);
            logger.LogInformation("Registration asked for an address that has an account: reminder mailed");
            return RegistrationRequestOutcome.Mailed;
        }
        var token = LinkTokens.NewToken();
        var now = time.GetUtcNow().UtcDateTime;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.Registrations.Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
            db.Registrations.Add(new Data.Registration { TokenHash = LinkTokens.Hash(token)!, Email = address, Phone = number.E164!, CreatedAt = now, ExpiresAt = now + LinkLifetime });
            await db.SaveChangesAsync(cancellationToken);
        }
        var link = portal.Value.UrlFor("/register/c/" + token);
        await mail.QueueAsync(address, "SecureMailbox: bekräfta din e-postadress / confirm your e-mail address",
            $"Klicka på länken för att fortsätta skapa ditt SecureMailbox-konto (giltig i 24 timmar):\n{link}\n" +
            "Var det inte du som ville skapa ett konto kan du strunta i det här meddelandet.\n\n" +
            $"Open the link to go on creating your SecureMailbox account (valid for 24 hours):\n{link}\n" +
            "If you did not ask for an account, ignore this mail.\n", cancellationToken);
        logger.LogInformation("Registration link mailed");
        return RegistrationRequestOutcome.Mailed;
    }

    /// <summary>Whether a mailed link can still be used (looking changes nothing: mail scanners fetch links).</summary>
    public async Task<bool> IsUsableAsync(string? token, CancellationToken cancellationToken)
    {
        var hash = LinkTokens.Hash(token);
        if (hash is null)
        {
            return false;
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Registrations.AnyAsync(r => r.TokenHash == hash && r.UsedAt == null && r.ExpiresAt > now, cancellationToken);
    }

    /// <summary>
    /// Uses the mailed link once: the registration moves to a cookie, and the SMS code goes to the number given.
    /// False when the link cannot be used (unknown, used, expired).
    /// </summary>
    public async Task<bool> UseLinkAsync(HttpContext context, string? token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var hash = LinkTokens.Hash(token);
        if (hash is null)
        {
            return false;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var secret = CookieSecret.New();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Single use, also against two requests racing: only the one that sets UsedAt goes on.
        var claimed = await db.Registrations.Where(r => r.TokenHash == hash && r.UsedAt == null && r.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.UsedAt, now).SetProperty(r => r.CookieRowId, secret.RowId)
                .SetProperty(r => r.ExpiresAt, now + CookieLifetime), cancellationToken);
        if (claimed != 1)
        {
            return false;
        }
        var registration = await db.Registrations.SingleAsync(r => r.TokenHash == hash, cancellationToken);
        var preSession = new PreSession { AccountId = Guid.Empty, LinkId = registration.Id, Phone = registration.Phone, CreatedAt = now, ExpiresAt = now + CookieLifetime };
        db.PreSessions.Add(preSession);
        registration.PreSessionId = preSession.Id;
        await db.SaveChangesAsync(cancellationToken);
        context.Response.Cookies.Append(CookieName, secret.ToString(), cookies.Options(context));
        await smsCodes.SendAsync(preSession, RateLimits.ClientIp(context), cancellationToken);
        return true;
    }

    /// <summary>The request's registration in progress, or null.</summary>
    public async Task<Data.Registration?> FindAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var secret = CookieSecret.Parse(context.Request.Cookies[CookieName]);
        if (secret is null)
        {
            return null;
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Registrations.AsNoTracking().SingleOrDefaultAsync(r => r.CookieRowId == secret.RowId && r.ExpiresAt > now, cancellationToken);
    }

    public async Task<SendResult> ResendAsync(HttpContext context, Data.Registration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        return await smsCodes.SendAsync(await PreSessionAsync(registration, cancellationToken), RateLimits.ClientIp(context), cancellationToken);
    }

    public async Task<CheckOutcome> CheckCodeAsync(Data.Registration registration, string? code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var outcome = await smsCodes.CheckAsync(await PreSessionAsync(registration, cancellationToken), code is { Length: <= 32 } ? code : null, cancellationToken);
        if (outcome == CheckOutcome.Correct)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.Registrations.Where(r => r.Id == registration.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.PhoneVerifiedAt, time.GetUtcNow().UtcDateTime), cancellationToken);
        }
        return outcome;
    }

    /// <summary>
    /// Creates the account with a new key pair under the password and ends the registration; returns the account
    /// and its key (for the session), or null when the address got an active account meanwhile.
    /// </summary>
    public async Task<(Account Account, AgeIdentity Key)?> CompleteAsync(HttpContext context, Data.Registration registration, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(registration);
        var key = AgeIdentity.Generate();
        var account = await keys.RegisterAsync(registration.Email, registration.Phone, key, password, storage.Value.DefaultRegion, cancellationToken);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.SmsCodeRequests.Where(r => r.PreSessionId == registration.PreSessionId).ExecuteDeleteAsync(cancellationToken);
            await db.PreSessions.Where(p => p.Id == registration.PreSessionId).ExecuteDeleteAsync(cancellationToken);
            await db.Registrations.Where(r => r.Id == registration.Id).ExecuteDeleteAsync(cancellationToken);
        }
        context.Response.Cookies.Delete(CookieName, cookies.Options(context));
        if (account is null)
        {
            key.Dispose();
            return null;
        }
        return (account, key);
    }

    /// <summary>A plain address (user@domain.tld), lower-cased; null for anything else.</summary>
    public static string? ValidAddress(string? email)
    {
        var address = VaultWriter.Normalise(email ?? "");
        if (address.Length is 0 or > 254 || address.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return null;
        }
        var at = address.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != address.LastIndexOf('@') || !address[(at + 1)..].Contains('.', StringComparison.Ordinal)
            || !MailboxAddress.TryParse(address, out var parsed) || parsed.Address != address)
        {
            return null;
        }
        return address;
    }

    private async Task<PreSession> PreSessionAsync(Data.Registration registration, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.PreSessions.AsNoTracking().SingleAsync(p => p.Id == registration.PreSessionId, cancellationToken);
    }
}
