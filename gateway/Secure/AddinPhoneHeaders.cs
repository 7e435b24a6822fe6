using System.Text;
using Microsoft.Extensions.Logging;
using MimeKit;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Gateway.Secure;

/// <summary>
/// Reads recipients' mobile numbers from a flagged message: the add-in's sealed header
/// (<c>X-SecureMailbox-Sealed</c>: base64 of an age file encrypted to <see cref="AddinHeaderKey"/>, whose plaintext is the
/// phone list below) and the plain <c>X-SecureMailbox-Phone: address=number[, address=number…]</c> that scripts and
/// tests use. A sealed value that cannot be opened gives no numbers: its recipients then bounce exactly like
/// recipients whose number is missing.
/// </summary>
public sealed class AddinPhoneHeaders(AddinHeaderKey key, ILogger<AddinPhoneHeaders> logger)
{
    /// <summary>The plain header (one per recipient, or a comma-separated list).</summary>
    public const string PhoneHeader = "X-SecureMailbox-Phone";

    /// <summary>The sealed header the add-in writes.</summary>
    public const string SealedHeader = "X-SecureMailbox-Sealed";

    /// <summary>More than a message's header block may hold (100 KiB by default); anything longer is refused unread.</summary>
    private const int MaxSealedLength = 128 * 1024;

    /// <summary>Lowercased address → number as written (the vault checks and normalises numbers).</summary>
    public Dictionary<string, string> Read(HeaderList headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var phones = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in headers.Where(h => h.Field.Equals(PhoneHeader, StringComparison.OrdinalIgnoreCase)))
        {
            AddList(phones, header.Value);
        }
        // Sealed values win over plain ones: only the add-in (holding the gateway's public key) writes them.
        foreach (var header in headers.Where(h => h.Field.Equals(SealedHeader, StringComparison.OrdinalIgnoreCase)))
        {
            var list = Open(header.Value);
            if (list is null)
            {
                logger.LogWarning("An {Header} value could not be opened with the gateway's key; its recipients count as having no number", SealedHeader);
                continue;
            }
            AddList(phones, list);
        }
        return phones;
    }

    /// <summary>The plaintext of a sealed value, or null when it is not an age file this gateway can open.</summary>
    public string? Open(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MaxSealedLength)
        {
            return null;
        }
        // MTAs may fold the value at the spaces the add-in puts between base64 groups.
        var compact = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (!char.IsWhiteSpace(c))
            {
                compact.Append(c);
            }
        }
        byte[] file;
        try
        {
            file = Convert.FromBase64String(compact.ToString());
        }
        catch (FormatException)
        {
            return null;
        }
        foreach (var identity in key.Identities)
        {
            try
            {
                using var plaintext = AgeFile.OpenDecryptStream(new MemoryStream(file, writable: false), identity);
                using var output = new MemoryStream();
                plaintext.CopyTo(output);
                return new UTF8Encoding(false, true).GetString(output.ToArray());
            }
            catch (AgeException)
            {
                // Not for this identity (or damaged): try the previous key, then give up.
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>Adds <c>address=number</c> entries of one list; malformed entries are skipped.</summary>
    internal static void AddList(Dictionary<string, string> phones, string list)
    {
        foreach (var pair in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.LastIndexOf('=');
            if (equals <= 0 || equals == pair.Length - 1)
            {
                continue;
            }
            var address = VaultWriter.Normalise(pair[..equals]);
            if (address.Contains('@', StringComparison.Ordinal))
            {
                phones[address] = pair[(equals + 1)..].Trim();
            }
        }
    }
}
