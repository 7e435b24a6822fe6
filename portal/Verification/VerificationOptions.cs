using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Portal.Verification;

/// <summary>Configuration section <c>Verification</c>: SMS codes and their limits (docs/rules.md A9, P2, P3).</summary>
public sealed class VerificationOptions
{
    public const string Section = "Verification";

    [Range(typeof(TimeSpan), "00:01:00", "00:10:00")]
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    [Range(1, 5)]
    public int MaxChecksPerCode { get; set; } = 5;

    [Range(1, 5)]
    public int MaxSendsPerCode { get; set; } = 5;

    /// <summary>The wait before the first resend; it doubles with each further send.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan FirstResendDelay { get; set; } = TimeSpan.FromSeconds(30);

    [Range(1, 100)]
    public int MaxSendsPerPhonePerHour { get; set; } = 6;

    [Range(1, 1000)]
    public int MaxSendsPerIpPerHour { get; set; } = 20;

    [Range(1, 100)]
    public int MaxSendsPerLinkPerDay { get; set; } = 10;
}
