using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace SecureMailbox.Portal.Addin.Api;

/// <summary>Body of <c>POST /addin/api/phones</c>: <c>{ "addresses": ["anna@example.org", …] }</c>.</summary>
public sealed record PhoneLookupRequest([property: JsonPropertyName("addresses")] IReadOnlyList<string?>? Addresses);

/// <summary>Answer: the numbers found, keyed by the lowercased address asked for; addresses without a number are absent.</summary>
public sealed record PhoneLookupResponse(
    [property: JsonPropertyName("phones")] IReadOnlyDictionary<string, string> Phones,
    [property: JsonPropertyName("failed")] IReadOnlyList<string> Failed);

/// <summary>Reads and checks a lookup request; the same address rules as the add-in's header (README "Header wire format").</summary>
public static partial class PhoneLookupRequestReader
{
    /// <summary>Larger than 100 addresses of 254 characters in JSON, small enough to refuse junk early.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 4,
    };

    /// <summary>Returns the distinct lowercased addresses, or an error text that names no user input.</summary>
    public static async Task<(IReadOnlyList<string>? Addresses, string? Error)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.HasJsonContentType())
        {
            return (null, "The body must be JSON (Content-Type: application/json).");
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, $"The body is larger than {MaxBodyBytes} bytes.");
        }

        PhoneLookupRequest? body;
        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (limited.Length + read > MaxBodyBytes)
                {
                    return (null, $"The body is larger than {MaxBodyBytes} bytes.");
                }

                limited.Write(buffer, 0, read);
            }

            body = JsonSerializer.Deserialize<PhoneLookupRequest>(limited.ToArray(), Json);
        }
        catch (JsonException)
        {
            return (null, "The body is not a JSON object of the form { \"addresses\": [ … ] }.");
        }

        return Check(body?.Addresses);
    }

    public static (IReadOnlyList<string>? Addresses, string? Error) Check(IReadOnlyList<string?>? addresses)
    {
        if (addresses is null || addresses.Count == 0)
        {
            return (null, "\"addresses\" must list at least one e-mail address.");
        }

        if (addresses.Count > AddinApiOptions.MaxAddresses)
        {
            return (null, $"\"addresses\" may list at most {AddinApiOptions.MaxAddresses} addresses.");
        }

        var result = new List<string>(addresses.Count);
        for (var i = 0; i < addresses.Count; i++)
        {
            var address = addresses[i];
            if (address is null || !IsAddress(address))
            {
                // The value itself is not echoed: it may hold CR/LF or markup.
                return (null, $"addresses[{i}] is not a plain e-mail address (ASCII, local@domain, no spaces, double quotes, '=', ',' or control characters).");
            }

            var lower = address.ToLowerInvariant();
            if (!result.Contains(lower, StringComparer.Ordinal))
            {
                result.Add(lower);
            }
        }

        return (result, null);
    }

    public static bool IsAddress(string value) => value.Length <= 254 && AddressPattern().IsMatch(value);

    // RFC 5322 dot-atom local part without '=' (the header's separator), as addin/web/headers.js, and an
    // A-label domain; '\z' rather than '$' so a trailing newline does not match.
    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/?^_`{|}~-]{1,64}(\.[A-Za-z0-9!#$%&'*+/?^_`{|}~-]{1,64})*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex AddressPattern();
}
