using System.Net;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>
/// Looks recipients' mobile numbers up in Microsoft Graph as the signed-in user: first the user's own
/// contacts whose e-mail addresses match, then the directory's <c>mobilePhone</c>. Only numbers that
/// <see cref="PhoneNumberRules"/> accepts are returned, in E.164.
/// </summary>
public sealed class GraphPhoneDirectory(GraphServiceClient graph, PhoneNumberRules rules, ILogger<GraphPhoneDirectory> logger)
{
    /// <summary>Graph throttles per user; a few requests at a time keep 100 addresses quick without tripping it.</summary>
    private const int Parallelism = 4;

    public async Task<IReadOnlyDictionary<string, string>> FindAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var gate = new object();
        await Parallel.ForEachAsync(
            addresses,
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (address, token) =>
            {
                var number = await FromContactsAsync(address, token) ?? await FromDirectoryAsync(address, token);
                if (number is not null)
                {
                    lock (gate)
                    {
                        found[address] = number;
                    }
                }
            });

        // Only the addresses asked for, in the order asked.
        return addresses.Where(found.ContainsKey).ToDictionary(a => a, a => found[a], StringComparer.Ordinal);
    }

    private async Task<string?> FromContactsAsync(string address, CancellationToken cancellationToken)
    {
        // OData string literal: a single quote is written twice (OData ABNF, SQUOTE-in-string).
        var literal = address.Replace("'", "''", StringComparison.Ordinal);
        var page = await graph.Me.Contacts.GetAsync(request =>
        {
            request.QueryParameters.Filter = $"emailAddresses/any(a:a/address eq '{literal}')";
            request.QueryParameters.Select = ["mobilePhone", "emailAddresses"];
            request.QueryParameters.Top = 10;
        }, cancellationToken);

        foreach (var contact in page?.Value ?? [])
        {
            // The filter is Graph's; check again that the contact really carries this address.
            var matches = contact.EmailAddresses?.Any(e => string.Equals(e.Address, address, StringComparison.OrdinalIgnoreCase)) == true;
            if (matches && Normalise(contact.MobilePhone) is { } number)
            {
                return number;
            }
        }

        return null;
    }

    private async Task<string?> FromDirectoryAsync(string address, CancellationToken cancellationToken)
    {
        try
        {
            var user = await graph.Users[address].GetAsync(request =>
                request.QueryParameters.Select = ["mobilePhone"], cancellationToken);
            return Normalise(user?.MobilePhone);
        }
        catch (ODataError error) when (error.ResponseStatusCode == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private string? Normalise(string? number)
    {
        if (string.IsNullOrWhiteSpace(number))
        {
            return null;
        }

        var check = rules.Check(number);
        if (!check.IsValid)
        {
            logger.LogDebug("A number from Graph was not accepted: {Reason}", check.Problem);
            return null;
        }

        return check.E164;
    }
}
