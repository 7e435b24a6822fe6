using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Portal.Sessions;

/// <summary>Configuration section <c>Sessions</c> (docs/rules.md A13).</summary>
public sealed class PortalSessionOptions
{
    public const string Section = "Sessions";

    /// <summary>A session unused this long ends.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A session ends this long after sign-in, used or not.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "7.00:00:00")]
    public TimeSpan AbsoluteTimeout { get; set; } = TimeSpan.FromHours(12);

    /// <summary>How long a used notification link's pre-session lasts (verification and choosing a password).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "1.00:00:00")]
    public TimeSpan PreSessionLifetime { get; set; } = TimeSpan.FromMinutes(30);
}
