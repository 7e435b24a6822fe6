using System.ComponentModel.DataAnnotations;

namespace SecureMailbox.Portal.Sms;

/// <summary>Configuration section <c>Sms</c>: the dev outbox (default) or Twilio.</summary>
public sealed class SmsOptions : IValidatableObject
{
    public const string Section = "Sms";

    /// <summary><c>Outbox</c> (a file per SMS in <c>&lt;data&gt;/sms-outbox</c>) or <c>Twilio</c>.</summary>
    [Required]
    [RegularExpression("^(Outbox|Twilio)$", ErrorMessage = "Sms:Provider must be Outbox or Twilio.")]
    public string Provider { get; set; } = "Outbox";

    public TwilioSmsOptions Twilio { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider != "Twilio")
        {
            yield break;
        }
        if (string.IsNullOrWhiteSpace(Twilio.AccountSid) || !Twilio.AccountSid.StartsWith("AC", StringComparison.Ordinal))
        {
            yield return new ValidationResult("Sms:Twilio:AccountSid is required (AC…) when Sms:Provider is Twilio.", ["Twilio.AccountSid"]);
        }
        if (string.IsNullOrWhiteSpace(Twilio.AuthToken))
        {
            yield return new ValidationResult("Sms:Twilio:AuthToken is required when Sms:Provider is Twilio.", ["Twilio.AuthToken"]);
        }
        if (string.IsNullOrWhiteSpace(Twilio.From))
        {
            yield return new ValidationResult("Sms:Twilio:From (an E.164 number or a messaging service/alphanumeric sender) is required when Sms:Provider is Twilio.", ["Twilio.From"]);
        }
        if (Twilio.ApiBaseUrl is not null && !Uri.TryCreate(Twilio.ApiBaseUrl, UriKind.Absolute, out _))
        {
            yield return new ValidationResult("Sms:Twilio:ApiBaseUrl must be an absolute URL.", ["Twilio.ApiBaseUrl"]);
        }
    }
}

public sealed class TwilioSmsOptions
{
    public string? AccountSid { get; set; }

    public string? AuthToken { get; set; }

    public string? From { get; set; }

    /// <summary>Only for tests and private relays: send Twilio's API calls to this base URL instead of api.twilio.com.</summary>
    public string? ApiBaseUrl { get; set; }
}
