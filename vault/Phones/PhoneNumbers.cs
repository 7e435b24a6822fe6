using System.ComponentModel.DataAnnotations;
using PhoneNumbers;

namespace SecureMailbox.Vault.Phones;

/// <summary>Configuration section <c>Phones</c>: how numbers are read and which countries SMS may go to (docs/rules.md P1).</summary>
public sealed class PhoneOptions
{
    public const string Section = "Phones";

    /// <summary>Country assumed for numbers written without a country code.</summary>
    [Required]
    [RegularExpression("^[A-Z]{2}$", ErrorMessage = "Phones:DefaultCountry must be a two-letter ISO country code, e.g. SE.")]
    public string DefaultCountry { get; set; } = "SE";

    /// <summary>
    /// Countries (ISO codes) numbers may belong to; empty means the default, the Nordics and the EU
    /// (<see cref="EffectiveAllowedCountries"/>: a configured list replaces the default rather than adding to it).
    /// </summary>
    public List<string> AllowedCountries { get; set; } = [];

    /// <summary>The configured countries, or the Nordics and the EU.</summary>
    public IReadOnlyList<string> EffectiveAllowedCountries => AllowedCountries.Count > 0 ? AllowedCountries : DefaultCountries;

    private static readonly string[] DefaultCountries =
    [
        "SE", "NO", "DK", "FI", "IS", "AX", "FO", "GL",
        "AT", "BE", "BG", "HR", "CY", "CZ", "EE", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES",
    ];
}

/// <summary>The result of reading a phone number.</summary>
public sealed record PhoneCheck(bool IsValid, string? E164, string? Country, string? Problem);

/// <summary>Reads, validates and normalises mobile numbers to E.164 with libphonenumber.</summary>
public sealed class PhoneNumberRules(Microsoft.Extensions.Options.IOptions<PhoneOptions> options)
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();
    private readonly PhoneOptions _options = options.Value;

    public PhoneCheck Check(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return new PhoneCheck(false, null, null, "no number");
        }
        if (input.Length > 40 || input.Any(c => char.IsControl(c)))
        {
            return new PhoneCheck(false, null, null, "not a phone number");
        }
        PhoneNumber number;
        try
        {
            number = Util.Parse(input, _options.DefaultCountry);
        }
        catch (NumberParseException)
        {
            return new PhoneCheck(false, null, null, "not a phone number");
        }
        if (!Util.IsValidNumber(number))
        {
            return new PhoneCheck(false, null, null, "not a valid number");
        }
        var type = Util.GetNumberType(number);
        if (type is not (PhoneNumberType.MOBILE or PhoneNumberType.FIXED_LINE_OR_MOBILE))
        {
            return new PhoneCheck(false, null, null, "not a mobile number");
        }
        var country = Util.GetRegionCodeForNumber(number);
        if (!_options.EffectiveAllowedCountries.Contains(country, StringComparer.OrdinalIgnoreCase))
        {
            return new PhoneCheck(false, null, country, $"numbers in {country} are not allowed");
        }
        return new PhoneCheck(true, Util.Format(number, PhoneNumberFormat.E164), country, null);
    }

    /// <summary>A number masked for display: <c>+46 70 *** ** 67</c>.</summary>
    public static string Mask(string e164)
    {
        ArgumentNullException.ThrowIfNull(e164);
        var number = Util.Parse(e164, null);
        var international = Util.Format(number, PhoneNumberFormat.INTERNATIONAL);
        var digitsSeen = 0;
        var totalDigits = international.Count(char.IsAsciiDigit);
        var countryDigits = number.CountryCode.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        return new string(international.Select(c =>
        {
            if (!char.IsAsciiDigit(c))
            {
                return c;
            }
            digitsSeen++;
            return digitsSeen <= countryDigits + 2 || digitsSeen > totalDigits - 2 ? c : '*';
        }).ToArray());
    }
}
