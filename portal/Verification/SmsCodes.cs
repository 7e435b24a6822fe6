using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sms;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Verification;

public enum SendOutcome
{
    Sent,
    TooSoon,
    Limited,
    CountryNotAllowed,
    NoPhone,
}

public enum CheckOutcome
{
    Correct,
    Wrong,
    Expired,
    TooManyChecks,
    NoCode,
}

public sealed record SendResult(SendOutcome Outcome, TimeSpan RetryAfter);

/// <summary>
/// SMS codes for one pre-session (docs/rules.md A9, P1–P3): 6 digits from a CSPRNG, HMAC-hashed at rest with a key
/// derived from the data folder's server secret, valid 10 minutes, single use, at most 5 checks and 5 sends per code
/// request, growing delay between sends, limits per number, per IP and per link.
/// </summary>
public sealed class SmsCodes(
    IDbContextFactory<PortalDbContext> dbFactory,
    ISmsSender sms,
    SmsDispatcher dispatcher,
    PhoneNumberRules phones,
    RateLimits limits,
    RateLimitPolicies policies,
    ServerSecret serverSecret,
    IStringLocalizer<SharedResource> texts,
    IOptions<VerificationOptions> options,
    TimeProvider time,
    ILogger<SmsCodes> logger)
{
    private VerificationOptions Options => options.Value;

    /// <param name="afterResponse">
    /// Hand the SMS to <see cref="SmsDispatcher"/> instead of waiting for the provider: for flows whose answer must take
    /// the same time whether or not a code was due (A12).
    /// </param>
    public async Task<SendResult> SendAsync(PreSession preSession, string clientIp, CancellationToken cancellationToken, bool afterResponse = false)
    {
        ArgumentNullException.ThrowIfNull(preSession);
        if (preSession.Phone is null)
        {
            return new SendResult(SendOutcome.NoPhone, TimeSpan.Zero);
        }
        var check = phones.Check(preSession.Phone);
        if (!check.IsValid)
        {
            logger.LogWarning("SMS for link {LinkId} refused: {Problem}", preSession.LinkId, check.Problem);
            return new SendResult(SendOutcome.CountryNotAllowed, TimeSpan.Zero);
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var request = await db.SmsCodeRequests.Where(r => r.PreSessionId == preSession.Id && r.UsedAt == null)
            .OrderByDescending(r => r.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        if (request is not null && request.ExpiresAt > now)
        {
            if (request.Sends >= Options.MaxSendsPerCode)
            {
                return new SendResult(SendOutcome.Limited, TimeSpan.Zero);
            }
            var wait = request.LastSentAt + ResendDelay(request.Sends) - now;
            if (wait > TimeSpan.Zero)
            {
                return new SendResult(SendOutcome.TooSoon, wait);
            }
        }
        var limited = new (RateLimitPolicy, string)[]
        {
            (policies.SmsSendsPerPhone, check.E164!), (policies.SmsSendsPerIp, clientIp), (policies.SmsSendsPerLink, preSession.LinkId.ToString("N")),
        };
        if (!await limits.TryTakeAllAsync(cancellationToken, limited))
        {
            logger.LogWarning("SMS for link {LinkId} refused by rate limits", preSession.LinkId);
            return new SendResult(SendOutcome.Limited, TimeSpan.Zero);
        }
        // A fresh code on every send; the request's counters carry over until it expires or is used.
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        int sends;
        if (request is null || request.ExpiresAt <= now)
        {
            // A new code request: the pre-session's row is written first, which makes parallel first sends wait for
            // each other (a row lock on PostgreSQL, the write lock on SQLite), so only one of them creates it.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.PreSessions.Where(p => p.Id == preSession.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.ExpiresAt, p => p.ExpiresAt), cancellationToken);
            if (await db.SmsCodeRequests.AnyAsync(r => r.PreSessionId == preSession.Id && r.UsedAt == null && r.ExpiresAt > now, cancellationToken))
            {
                await transaction.RollbackAsync(cancellationToken);
                await GiveBackAsync(limited, cancellationToken);
                return new SendResult(SendOutcome.TooSoon, Options.FirstResendDelay);
            }
            request = new SmsCodeRequest { PreSessionId = preSession.Id, LinkId = preSession.LinkId, CodeHash = [], CreatedAt = now };
            request.CodeHash = Hash(request.Id, code);
            request.ExpiresAt = now + Options.CodeLifetime;
            request.LastSentAt = now;
            request.Sends = sends = 1;
            db.SmsCodeRequests.Add(request);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        else
        {
            // Only the request that saw this number of sends may replace the code: of parallel resends one wins, so
            // neither the per-code limit nor the growing delay can be passed by sending at once.
            var seen = request.Sends;
            var id = request.Id;
            var hash = Hash(id, code);
            var expires = now + Options.CodeLifetime;
            sends = seen + 1;
            if (await db.SmsCodeRequests.Where(r => r.Id == id && r.Sends == seen && r.UsedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.CodeHash, hash).SetProperty(r => r.ExpiresAt, expires)
                        .SetProperty(r => r.LastSentAt, now).SetProperty(r => r.Sends, sends), cancellationToken) != 1)
            {
                await GiveBackAsync(limited, cancellationToken);
                return new SendResult(SendOutcome.TooSoon, ResendDelay(seen));
            }
        }
        if (afterResponse)
        {
            dispatcher.Enqueue(check.E164!, texts["SmsCodeText", code].Value);
        }
        else
        {
            await sms.SendAsync(check.E164!, texts["SmsCodeText", code].Value, cancellationToken);
        }
        return new SendResult(SendOutcome.Sent, ResendDelay(sends));
    }

    public async Task<CheckOutcome> CheckAsync(PreSession preSession, string? code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(preSession);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var request = await db.SmsCodeRequests.Where(r => r.PreSessionId == preSession.Id && r.UsedAt == null)
            .OrderByDescending(r => r.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        if (request is null)
        {
            return CheckOutcome.NoCode;
        }
        if (request.ExpiresAt <= now)
        {
            return CheckOutcome.Expired;
        }
        // The check is taken before the code is compared, in one conditional update: parallel guesses cannot compare
        // more than MaxChecksPerCode codes (docs/rules.md A9, A16). A resend replaces the hash but keeps the count.
        var id = request.Id;
        var max = Options.MaxChecksPerCode;
        var taken = await db.SmsCodeRequests.Where(r => r.Id == id && r.UsedAt == null && r.ExpiresAt > now && r.Checks < max)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Checks, r => r.Checks + 1), cancellationToken);
        if (taken != 1)
        {
            return CheckOutcome.TooManyChecks;
        }
        // Read again: the hash compared is the one current when the check was taken.
        var codeHash = await db.SmsCodeRequests.Where(r => r.Id == id).Select(r => r.CodeHash).SingleAsync(cancellationToken);
        var normalised = new string((code ?? "").Where(char.IsAsciiDigit).Take(8).ToArray());
        var correct = normalised.Length == 6 && CryptographicOperations.FixedTimeEquals(Hash(id, normalised), codeHash)
            // Single use: of two parallel right answers only one marks the code used.
            && await db.SmsCodeRequests.Where(r => r.Id == id && r.UsedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.UsedAt, now), cancellationToken) == 1;
        if (!correct)
        {
            logger.LogInformation("Wrong SMS code for link {LinkId} (at most {Max} checks)", preSession.LinkId, max);
        }
        return correct ? CheckOutcome.Correct : CheckOutcome.Wrong;
    }

    private async Task GiveBackAsync((RateLimitPolicy Policy, string Subject)[] taken, CancellationToken cancellationToken)
    {
        foreach (var (policy, subject) in taken)
        {
            await limits.GiveBackAsync(policy, subject, cancellationToken);
        }
    }

    private TimeSpan ResendDelay(int sends) => Options.FirstResendDelay * Math.Pow(2, Math.Max(0, sends - 1));

    private byte[] Hash(Guid requestId, string code) =>
        HMACSHA256.HashData(serverSecret.Derive("sms-code-v1"), Encoding.ASCII.GetBytes(requestId.ToString("N") + ":" + code));
}
