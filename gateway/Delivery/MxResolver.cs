using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>A domain could not be resolved to a mail host; permanent when the domain does not exist or has a null MX.</summary>
public sealed class MxResolutionException(string message, bool permanent) : Exception(message)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// The hosts to try for a domain (RFC 5321 §5.1): its MX hosts in preference order, or when it has none,
/// the domain itself if it has an address (the implicit MX). A null MX (RFC 7505) means the domain takes no mail.
/// </summary>
public sealed class MxResolver
{
    /// <summary>A mail host name and one of its addresses.</summary>
    public sealed record MailHost(string Name, IPAddress Address);

    private readonly LookupClient _dns;

    public MxResolver(IOptions<DeliveryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var servers = options.Value.DnsServers.Select(ParseServer).ToArray();
        var lookupOptions = servers.Length > 0 ? new LookupClientOptions(servers) : new LookupClientOptions();
        lookupOptions.UseCache = true;
        lookupOptions.Timeout = TimeSpan.FromSeconds(5);
        lookupOptions.Retries = 2;
        lookupOptions.ThrowDnsErrors = false;
        lookupOptions.UseTcpFallback = true;
        _dns = new LookupClient(lookupOptions);
    }

    private static NameServer ParseServer(string value)
    {
        var endpoint = IPEndPoint.TryParse(value, out var parsed) ? parsed : throw new FormatException($"Delivery:DnsServers entry '{value}' is not an address[:port].");
        return new NameServer(endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint);
    }

    /// <summary>The addresses to try, in order: each MX host's A and AAAA addresses.</summary>
    public async Task<IReadOnlyList<MailHost>> ResolveAsync(string domain, CancellationToken cancellationToken)
    {
        try
        {
            return await ResolveHostsAsync(domain, cancellationToken);
        }
        catch (DnsResponseException exception)
        {
            // DnsClient throws on a timeout even with ThrowDnsErrors off. Let it fail this domain only, transiently:
            // escaping the caller's loop over recipient domains would mark recipients already delivered in other
            // domains as pending again, and they would get the message again on every retry.
            throw new MxResolutionException($"DNS look-up for {domain} failed: {exception.Message}", permanent: false);
        }
    }

    private async Task<IReadOnlyList<MailHost>> ResolveHostsAsync(string domain, CancellationToken cancellationToken)
    {
        var names = await ResolveNamesAsync(domain, cancellationToken);
        var hosts = new List<MailHost>();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var literal))
            {
                hosts.Add(new MailHost(name, literal));
                continue;
            }
            var a = await _dns.QueryAsync(name, QueryType.A, cancellationToken: cancellationToken);
            var aaaa = await _dns.QueryAsync(name, QueryType.AAAA, cancellationToken: cancellationToken);
            hosts.AddRange(a.Answers.ARecords().Select(r => new MailHost(name, r.Address)));
            hosts.AddRange(aaaa.Answers.AaaaRecords().Select(r => new MailHost(name, r.Address)));
        }
        if (hosts.Count == 0)
        {
            throw new MxResolutionException($"no address found for the mail hosts of {domain}", permanent: false);
        }
        return hosts;
    }

    private async Task<IReadOnlyList<string>> ResolveNamesAsync(string domain, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(domain))
        {
            throw new MxResolutionException("recipient address has no domain", permanent: true);
        }
        var mxResult = await _dns.QueryAsync(domain, QueryType.MX, cancellationToken: cancellationToken);
        if (mxResult.HasError && mxResult.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new MxResolutionException($"DNS error for {domain}: {mxResult.ErrorMessage}", permanent: false);
        }
        if (mxResult.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new MxResolutionException($"domain {domain} does not exist", permanent: true);
        }
        var mxRecords = mxResult.Answers.OfType<MxRecord>().OrderBy(r => r.Preference).ToList();
        if (mxRecords.Count == 1 && mxRecords[0].Exchange.Value == ".")
        {
            throw new MxResolutionException($"domain {domain} accepts no mail (null MX)", permanent: true);
        }
        if (mxRecords.Count > 0)
        {
            return mxRecords.Select(r => r.Exchange.Value.TrimEnd('.')).Where(h => h.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        }
        // No MX: the implicit MX is the domain itself, if it has an A or AAAA record.
        var a = await _dns.QueryAsync(domain, QueryType.A, cancellationToken: cancellationToken);
        var aaaa = await _dns.QueryAsync(domain, QueryType.AAAA, cancellationToken: cancellationToken);
        if (a.Answers.ARecords().Any() || aaaa.Answers.AaaaRecords().Any())
        {
            return [domain];
        }
        if (a.HasError || aaaa.HasError)
        {
            throw new MxResolutionException($"DNS error for {domain}: {a.ErrorMessage}", permanent: false);
        }
        throw new MxResolutionException($"domain {domain} has no MX and no address", permanent: true);
    }
}
