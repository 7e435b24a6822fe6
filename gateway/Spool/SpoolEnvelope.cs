using System.Text.Json.Serialization;

namespace SecureMailbox.Gateway.Spool;

/// <summary>How the gateway will handle a spooled message.</summary>
public enum MessageClass
{
    /// <summary>Relayed unchanged to the next hop.</summary>
    Plain,

    /// <summary>Encrypted into the vault; recipients get notifications.</summary>
    Secure,
}

/// <summary>The SMTP envelope and session facts of a spooled message.</summary>
public sealed class SpoolEnvelope
{
    public required string Id { get; init; }

    /// <summary>MAIL FROM; empty for the null sender.</summary>
    public required string From { get; init; }

    public required IReadOnlyList<string> To { get; init; }

    public string? EnvelopeId { get; init; }

    public string? Ret { get; init; }

    public bool EightBitMime { get; init; }

    public required string ClientAddress { get; init; }

    public string? Helo { get; init; }

    public string? TlsProtocol { get; init; }

    public string? AuthenticatedUser { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    public long MessageLength { get; init; }

    [JsonConverter(typeof(JsonStringEnumConverter<MessageClass>))]
    public MessageClass Class { get; init; }
}

[JsonSerializable(typeof(SpoolEnvelope))]
internal sealed partial class SpoolJson : JsonSerializerContext;
