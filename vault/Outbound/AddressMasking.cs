using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Vault.Outbound;

/// <summary>Whether logs show mail addresses: configuration section <c>LogPrivacy</c>.</summary>
public sealed class LogPrivacyOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "LogPrivacy";

    /// <summary>Mask mail addresses in log lines (<c>r***@example.net</c>): the local part names a person.</summary>
    public bool MaskAddresses { get; set; }
}

/// <summary>Masks mail addresses in what is logged, when <see cref="LogPrivacyOptions.MaskAddresses"/> is on.</summary>
public sealed partial class AddressMasking(IOptions<LogPrivacyOptions> options)
{
    private readonly bool _mask = options.Value.MaskAddresses;

    /// <summary>The address as it may be logged: its first character and its domain when masking is on.</summary>
    public string Address(string? address)
    {
        if (!_mask || string.IsNullOrEmpty(address))
        {
            return address ?? "";
        }
        var at = address.LastIndexOf('@');
        return at <= 0 ? "***" : $"{address[0]}***{address[at..]}";
    }

    /// <summary>Free text (a next hop's reply) with every address in it masked when masking is on.</summary>
    public string? Text(string? text) => !_mask || text is null ? text : AddressInText().Replace(text, m => Address(m.Value));

    [GeneratedRegex(@"[^\s<>""(),;:@]+@[A-Za-z0-9.\-\[\]]+", RegexOptions.None, 1000)]
    private static partial Regex AddressInText();
}
