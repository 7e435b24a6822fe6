using MimeKit;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Gateway.Secure;

/// <summary>
/// The sender a reader sees is the sender who sent (docs/rules.md A17): secure
/// mail is accepted only when the envelope sender is in an organisation's domains and the header <c>From</c> is one
/// address, in an organisation's domains, equal to the envelope sender or to the SMTP AUTH identity. Checked at the
/// end of DATA, before the <c>250</c>, so a refusal reaches the sending server as <c>550 5.7.1</c> and no bounce is
/// needed.
/// </summary>
internal sealed class SecureSenderCheck(OrganisationDirectory organisations)
{
    /// <summary>Null when the sender may send secure mail; otherwise the refusal's text (after <c>550 5.7.1</c>).</summary>
    public async Task<string?> RefusalAsync(HeaderList headers, string envelopeFrom, string? authenticatedUser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!await organisations.IsOrganisationAddressAsync(envelopeFrom, cancellationToken))
        {
            return "Secure mail is accepted only from the organisation's own domains; the message was not sent";
        }
        var from = FromAddresses(headers);
        if (from.Count != 1)
        {
            return "Secure mail needs exactly one From address; the message was not sent";
        }
        var address = VaultWriter.Normalise(from[0]);
        if (!await organisations.IsOrganisationAddressAsync(address, cancellationToken))
        {
            return "The From address of secure mail must be in the organisation's own domains; the message was not sent";
        }
        var envelope = VaultWriter.Normalise(envelopeFrom);
        var authenticated = authenticatedUser is null ? null : VaultWriter.Normalise(authenticatedUser);
        if (!string.Equals(address, envelope, StringComparison.Ordinal) && !string.Equals(address, authenticated, StringComparison.Ordinal))
        {
            return "The From address of secure mail must be the envelope sender (MAIL FROM) or the authenticated user; the message was not sent";
        }
        return null;
    }

    private static List<string> FromAddresses(HeaderList headers)
    {
        // Every From header counts: a second one must not be able to hide behind the first.
        var addresses = new List<string>();
        foreach (var header in headers.Where(h => h.Id == HeaderId.From))
        {
            if (!InternetAddressList.TryParse(ParserOptions.Default, header.RawValue, out var list))
            {
                return [];
            }
            foreach (var mailbox in list.Mailboxes)
            {
                addresses.Add(mailbox.Address);
            }
            if (list.Count != list.Mailboxes.Count())
            {
                return [];
            }
        }
        return addresses;
    }
}
