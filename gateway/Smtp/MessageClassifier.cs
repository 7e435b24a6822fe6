using Microsoft.Extensions.Options;
using MimeKit;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>Decides whether a message is flagged secure (docs/operators.md, "Secure delivery").</summary>
public sealed class MessageClassifier(IOptions<ClassificationOptions> options)
{
    /// <summary>The header the add-in sets.</summary>
    public const string FlagHeader = "X-SecureMailbox";

    /// <summary>Secure when the flag header says so or the subject holds a configured keyword.</summary>
    public Spool.MessageClass Classify(HeaderList headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var header in headers)
        {
            if (header.Field.Equals(FlagHeader, StringComparison.OrdinalIgnoreCase)
                && header.Value.Trim().Equals("secure", StringComparison.OrdinalIgnoreCase))
            {
                return Spool.MessageClass.Secure;
            }
        }
        var subject = headers[HeaderId.Subject];
        if (subject is not null && options.Value.EffectiveSubjectKeywords.Any(k => subject.Contains(k, StringComparison.OrdinalIgnoreCase)))
        {
            return Spool.MessageClass.Secure;
        }
        return Spool.MessageClass.Plain;
    }
}
