using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>What the next hop said about one recipient.</summary>
public enum Outcome
{
    Delivered,
    Transient,
    Permanent,
}

/// <summary>The result for one recipient: outcome and the next hop's reply (for logs and bounces).</summary>
public sealed record RecipientResult(string Address, Outcome Outcome, string Response);

/// <summary>Where queued messages go: a pickup folder, the smarthost, or the recipients' MX hosts.</summary>
public interface INextHop
{
    /// <summary>Delivers one message to the given recipients; never throws for the next hop's refusals, only reports them.</summary>
    Task<IReadOnlyList<RecipientResult>> DeliverAsync(OutboundMessage message, Func<Stream> openContent, IReadOnlyList<string> recipients, CancellationToken cancellationToken);
}
