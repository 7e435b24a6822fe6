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
/// SMS codes for one pre-session (SECURITY.md A9, P1–P3): 6 digits from a CSPRNG, HMAC-hashed at rest with a key
/// derived from the data folder's server secret, valid 10 minutes, single use, at most 5 checks and 5 sends per code
/// request, growing delay between sends, limits per number, per IP and per link.
/// </summary>
public sealed class SmsCodes(
    IDbContextFactory<PortalDbContext> dbFactory,
    ISmsSender sms,
    SmsDispatcher dispatcher,
    PhoneNumberRules phones,
    RateLimits limits,
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
        var phoneKey = "sms-phone:" + check.E164;
        var ipKey = "sms-ip:" + clientIp;
        var linkKey = "sms-link:" + preSession.LinkId.ToString("N");
        if (await limits.CountAsync(phoneKey, TimeSpan.FromHours(1), cancellationToken) >= Options.MaxSendsPerPhonePerHour
            || await limits.CountAsync(ipKey, TimeSpan.FromHours(1), cancellationToken) >= Options.MaxSendsPerIpPerHour
            || await limits.CountAsync(linkKey, TimeSpan.FromDays(1), cancellationToken) >= Options.MaxSendsPerLinkPerDay)
        {
            logger.LogWarning("SMS for link {LinkId} refused by rate limits", preSession.LinkId);
            return new SendResult(SendOutcome.Limited, TimeSpan.Zero);
        }
        // A fresh code on every send; the request's counters carry over until it expires or is used.
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        if (request is null || request.ExpiresAt <= now)
        {
            request = new SmsCodeRequest { PreSessionId = preSession.Id, LinkId = preSession.LinkId, CodeHash = [], CreatedAt = now };
            db.SmsCodeRequests.Add(request);
        }
        request.CodeHash = Hash(request.Id, code);
        request.ExpiresAt = now + Options.CodeLifetime;
        request.LastSentAt = now;
        request.Sends++;
        await db.SaveChangesAsync(cancellationToken);
        await limits.AddAsync(cancellationToken, phoneKey, ipKey, linkKey);
        if (afterResponse)
        {
            dispatcher.Enqueue(check.E164!, texts["SmsCodeText", code].Value);
        }
        else
        {
            await sms.SendAsync(check.E164!, texts["SmsCodeText", code].Value, cancellationToken);
        }
        return new SendResult(SendOutcome.Sent, ResendDelay(request.Sends));
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
        if (request.Checks >= Options.MaxChecksPerCode)
        {
            return CheckOutcome.TooManyChecks;
        }
        request.Checks++;
        var normalised = new string((code ?? "").Where(char.IsAsciiDigit).Take(8).ToArray());
        var correct = normalised.Length == 6 && CryptographicOperations.FixedTimeEquals(Hash(request.Id, normalised), request.CodeHash);
        if (correct)
        {
            request.UsedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        if (!correct)
        {
            logger.LogInformation("Wrong SMS code for link {LinkId} ({Checks} of {Max})", preSession.LinkId, request.Checks, Options.MaxChecksPerCode);
        }
        return correct ? CheckOutcome.Correct : CheckOutcome.Wrong;
    }

    private TimeSpan ResendDelay(int sends) => Options.FirstResendDelay * Math.Pow(2, Math.Max(0, sends - 1));

    private byte[] Hash(Guid requestId, string code) =>
        HMACSHA256.HashData(serverSecret.Derive("sms-code-v1"), Encoding.ASCII.GetBytes(requestId.ToString("N") + ":" + code));
}
