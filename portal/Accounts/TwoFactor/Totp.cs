using System.Security.Cryptography;
using OtpNet;

namespace SecureMailbox.Portal.Accounts.TwoFactor;

/// <summary>
/// RFC 6238 TOTP as the portal uses it (Otp.NET, 30-second steps, SHA-1 by default for authenticator apps).
/// Time is always the injected clock's UTC instant: Otp.NET counts ticks of the DateTime it is given and does not
/// convert local time, so a local DateTime would shift every code by the zone offset.
/// </summary>
public sealed class Totp(TimeProvider time)
{
    public const int StepSeconds = 30;

    public const int Digits = 6;

    /// <summary>160 bits (RFC 4226 §4 recommends at least 160) from the OS CSPRNG.</summary>
    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(20);

    public static string Base32(byte[] secret) => Base32Encoding.ToString(secret).TrimEnd('=');

    /// <summary>The secret in groups of four characters, as the settings page shows it.</summary>
    public static string Grouped(byte[] secret) => string.Join(' ', Base32(secret).Chunk(4).Select(c => new string(c)));

    public static string OtpAuthUri(string email, byte[] secret) =>
        $"otpauth://totp/SecureMailbox:{Uri.EscapeDataString(email)}?secret={Base32(secret)}&issuer=SecureMailbox&algorithm=SHA1&digits={Digits}&period={StepSeconds}";

    /// <summary>The code for a UTC instant (the same computation verification uses).</summary>
    public static string ComputeAt(byte[] secret, DateTimeOffset instant, int digits = Digits, OtpHashMode mode = OtpHashMode.Sha1) =>
        new OtpNet.Totp(secret, StepSeconds, mode, digits).ComputeTotp(instant.UtcDateTime);

    public static long StepAt(DateTimeOffset instant) => instant.ToUnixTimeSeconds() / StepSeconds;

    /// <summary>
    /// Checks a code against now ±1 step. Returns the matched step when it is later than <paramref name="lastUsedStep"/>
    /// (a step is accepted once only), otherwise null.
    /// </summary>
    public long? Verify(byte[] secret, string? code, long lastUsedStep, int digits = Digits, OtpHashMode mode = OtpHashMode.Sha1)
    {
        var normalised = new string((code ?? "").Where(c => !char.IsWhiteSpace(c)).ToArray());
        if (normalised.Length != digits || !normalised.All(char.IsAsciiDigit))
        {
            return null;
        }
        var totp = new OtpNet.Totp(secret, StepSeconds, mode, digits);
        var now = time.GetUtcNow().UtcDateTime;
        if (!totp.VerifyTotp(now, normalised, out var step, new VerificationWindow(previous: 1, future: 1)))
        {
            return null;
        }
        return step > lastUsedStep ? step : null;
    }
}
