using System.Net;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;
using Microsoft.Kiota.Abstractions;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>
/// Looks recipients' mobile numbers up in Microsoft Graph as the signed-in user, per address, in the order that finds
/// external people: the user's own contacts whose e-mail addresses match, then the organisation's contacts (mail
/// contacts, <c>/contacts</c> filtered on <c>mail</c>), then the directory's users (<c>/users/{address}</c>, which
/// only knows the tenant's own people). Only numbers that <see cref="PhoneNumberRules"/> accepts are returned, in E.164.
/// A Graph failure for one address is reported for that address; sign-in failures (no Graph token at all) end the
/// whole request.
/// </summary>
public sealed class GraphPhoneDirectory(GraphServiceClient graph, PhoneNumberRules rules, ILogger<GraphPhoneDirectory> logger)
{
    /// <summary>Graph throttles per user; a few requests at a time keep 100 addresses quick without tripping it.</summary>
    private const int Parallelism = 4;

    public async Task<PhoneLookupResult> FindAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var gate = new object();
        await Parallel.ForEachAsync(
            addresses,
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (address, token) =>
            {
                string? number;
                try
                {
                    number = await FromContactsAsync(address, token)
                        ?? await FromOrganisationContactsAsync(address, token)
                        ?? await FromDirectoryAsync(address, token);
                }
                catch (Exception exception) when (IsGraphFailure(exception))
                {
                    logger.LogWarning(exception, "Graph look-up failed for one address");
                    lock (gate)
                    {
                        failed.Add(address);
                    }
                    return;
                }
                if (number is not null)
                {
                    lock (gate)
                    {
                        found[address] = number;
                    }
                }
            });

        // Only the addresses asked for, in the order asked.
        return new PhoneLookupResult(
            addresses.Where(found.ContainsKey).ToDictionary(a => a, a => found[a], StringComparer.Ordinal),
            addresses.Where(failed.Contains).ToList());
    }

    /// <summary>Graph answering with an error, or not reachable; not a sign-in problem (those end the request).</summary>
    private static bool IsGraphFailure(Exception exception) => exception switch
    {
        MicrosoftIdentityWebChallengeUserException or MsalException => false,
        ApiException or HttpRequestException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsGraphFailure),
        _ => false,
    };

    /// <summary>An OData string literal: a single quote is written twice (OData ABNF, SQUOTE-in-string).</summary>
    private static string Literal(string value) => value.Replace("'", "''", StringComparison.Ordinal);

    private async Task<string?> FromContactsAsync(string address, CancellationToken cancellationToken)
    {
        var page = await graph.Me.Contacts.GetAsync(request =>
        {
            request.QueryParameters.Filter = $"emailAddresses/any(a:a/address eq '{Literal(address)}')";
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

    private async Task<string?> FromOrganisationContactsAsync(string address, CancellationToken cancellationToken)
    {
        var page = await graph.Contacts.GetAsync(request =>
        {
            request.QueryParameters.Filter = $"mail eq '{Literal(address)}'";
            request.QueryParameters.Select = ["mail", "phones"];
            request.QueryParameters.Top = 10;
        }, cancellationToken);

        foreach (var contact in page?.Value ?? [])
        {
            if (!string.Equals(contact.Mail, address, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            foreach (var phone in contact.Phones ?? [])
            {
                if (phone.Type == Microsoft.Graph.Models.PhoneType.Mobile && Normalise(phone.Number) is { } number)
                {
                    return number;
                }
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

/// <summary>Numbers found (address → E.164) and the addresses whose look-up failed.</summary>
public sealed record PhoneLookupResult(IReadOnlyDictionary<string, string> Phones, IReadOnlyList<string> Failed);
