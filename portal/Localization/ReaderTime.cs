using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;
using SecureMailbox.Portal.Security;

namespace SecureMailbox.Portal.Localization;

/// <summary>Configuration section <c>Display</c>: how times are shown when the reader's browser has not said.</summary>
public sealed class DisplayOptions : IValidatableObject
{
    public const string Section = "Display";

    /// <summary>The IANA time zone for readers whose browser zone is unknown (and for the portal's notice mails).</summary>
    [Required]
    public string TimeZone { get; set; } = "Europe/Stockholm";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            yield return new ValidationResult($"Display:TimeZone '{TimeZone}' is not a known time zone (use an IANA name such as Europe/Stockholm).", [nameof(TimeZone)]);
        }
    }
}

/// <summary>
/// Times and sizes as a reader expects them: in the reader's time zone (the browser's, reported by <c>/js/tz.js</c> in
/// a cookie, else <see cref="DisplayOptions.TimeZone"/>) and the page language's format; sizes in kB/MB/GB.
/// </summary>
public sealed class ReaderTime(IOptions<DisplayOptions> options, CookiePolicy cookies, IHttpContextAccessor accessor)
{
    private readonly TimeZoneInfo _default = TimeZoneInfo.FindSystemTimeZoneById(options.Value.TimeZone);

    /// <summary>The cookie <c>/js/tz.js</c> writes the browser's IANA zone into (not secret, readable by the script).</summary>
    public string ZoneCookie => cookies.Prefix + "tz";

    /// <summary>The zone of the current reader.</summary>
    public TimeZoneInfo Zone => ZoneFrom(accessor.HttpContext?.Request.Cookies[ZoneCookie], _default);

    /// <summary>The zone a browser reported, when it is a well-formed IANA name this machine knows; else the fallback.</summary>
    public static TimeZoneInfo ZoneFrom(string? reported, TimeZoneInfo fallback) =>
        reported is { Length: > 0 and <= 64 } && reported.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-' or '+')
        && !reported.Contains("..", StringComparison.Ordinal) && TimeZoneInfo.TryFindSystemTimeZoneById(reported, out var zone) ? zone : fallback;

    /// <summary>The configured zone (for mails, which have no browser).</summary>
    public TimeZoneInfo DefaultZone => _default;

    /// <summary>A stored UTC time in the reader's zone and the page's language.</summary>
    public string Format(DateTime utc) => Format(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));

    /// <summary>A time in the reader's zone and the page's language.</summary>
    public string Format(DateTimeOffset time) => Format(time, Zone, CultureInfo.CurrentUICulture);

    /// <summary>A time in a given zone and language: <c>2026-12-04 17:05</c> (sv) or <c>4 Dec 2026 17:05</c> (en).</summary>
    public static string Format(DateTimeOffset time, TimeZoneInfo zone, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(culture);
        var local = TimeZoneInfo.ConvertTime(time, zone);
        return culture.TwoLetterISOLanguageName == "en"
            ? local.ToString("d MMM yyyy HH:mm", CultureInfo.GetCultureInfo("en-GB"))
            : local.ToString("yyyy-MM-dd HH:mm", CultureInfo.GetCultureInfo("sv-SE"));
    }

    /// <summary>The ISO 8601 form for <c>&lt;time datetime&gt;</c>.</summary>
    public static string Iso(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture);

    /// <summary>The ISO 8601 form for <c>&lt;time datetime&gt;</c>.</summary>
    public static string Iso(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A size in human units in the page's language: <c>840 byte</c>, <c>12 kB</c>, <c>1,5 MB</c>.</summary>
    public static string Size(long bytes) => Size(bytes, CultureInfo.CurrentUICulture);

    public static string Size(long bytes, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(culture);
        var number = culture.TwoLetterISOLanguageName == "en" ? CultureInfo.GetCultureInfo("en-GB") : CultureInfo.GetCultureInfo("sv-SE");
        if (bytes < 1024)
        {
            return string.Create(number, $"{Math.Max(0, bytes)} {(culture.TwoLetterISOLanguageName == "en" ? (bytes == 1 ? "byte" : "bytes") : "byte")}");
        }
        string[] units = ["kB", "MB", "GB", "TB"];
        double value = bytes;
        var unit = -1;
        do
        {
            value /= 1024;
            unit++;
        }
        while (value >= 1024 && unit < units.Length - 1);
        var format = value < 10 ? "0.#" : "0";
        return value.ToString(format, number) + " " + units[unit];
    }
}
