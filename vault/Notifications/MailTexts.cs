using System.Globalization;
using Microsoft.Extensions.Localization;

namespace SecureMailbox.Vault.Notifications;

/// <summary>
/// Every text of the mails the services write (notifications, receipts, notices to account owners), from
/// <c>Resources/Notifications/MailTexts.resx</c> (Swedish, the default) and <c>MailTexts.en.resx</c>. A mail is written
/// in its reader's language, not the language of whatever request or job happens to compose it.
/// </summary>
public sealed class MailTexts(IStringLocalizer<MailTexts> localizer)
{
    private static readonly CultureInfo Swedish = CultureInfo.GetCultureInfo("sv");
    private static readonly CultureInfo English = CultureInfo.GetCultureInfo("en");

    /// <summary>The culture of a stored language code: <c>en</c>, else Swedish.</summary>
    public static CultureInfo CultureOf(string? language) =>
        string.Equals(language, "en", StringComparison.OrdinalIgnoreCase) ? English : Swedish;

    /// <summary>The text <paramref name="name"/> in <paramref name="language"/>, formatted with <paramref name="arguments"/>.</summary>
    public string Get(string? language, string name, params object[] arguments)
    {
        // IStringLocalizer reads the current UI culture; set it for this synchronous look-up only.
        var previous = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = CultureOf(language);
        try
        {
            var text = localizer[name, arguments];
            if (text.ResourceNotFound)
            {
                throw new InvalidOperationException($"Mail text '{name}' is missing from the resources.");
            }
            return text.Value;
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }
}
