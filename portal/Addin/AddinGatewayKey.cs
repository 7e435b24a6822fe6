using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Portal.Addin;

/// <summary>
/// The gateway's public key that the add-in seals recipients' numbers to: <c>Addin:GatewayRecipient</c>, or the
/// <c>addin-header.key.pub</c> file the gateway writes at start (read on each request, so a rotated key is
/// published without restarting the portal).
/// </summary>
public sealed class AddinGatewayKey(IOptions<AddinOptions> options, IOptions<VaultOptions> vault, ILogger<AddinGatewayKey> logger)
{
    /// <summary>The key as <c>age1…</c>, or null when none is configured or published yet.</summary>
    public string? Current()
    {
        var configured = options.Value.GatewayRecipient;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Canonical(configured);
        }
        var file = string.IsNullOrWhiteSpace(options.Value.GatewayRecipientFile)
            ? Path.Combine(vault.Value.DataPath, "addin-header.key.pub")
            : options.Value.GatewayRecipientFile;
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("The gateway's add-in header key is not configured (Addin:GatewayRecipient) and {File} cannot be read: the add-in cannot pass mobile numbers", file);
            return null;
        }
        var parsed = Canonical(text);
        if (parsed is null)
        {
            logger.LogWarning("{File} does not hold an age public key (age1…)", file);
        }
        return parsed;
    }

    /// <summary>The canonical <c>age1…</c> form of an age X25519 public key, or null.</summary>
    public static string? Canonical(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        try
        {
            return AgeRecipient.Parse(text.Trim()).ToString();
        }
        catch (AgeException)
        {
            return null;
        }
    }
}
