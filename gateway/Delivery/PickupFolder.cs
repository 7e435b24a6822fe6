using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Outbound;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// The default next hop on one machine: each message becomes an <c>.eml</c> file in the pickup folder, with
/// the envelope in <c>X-Envelope-*</c> headers at the top (as IIS and Exchange pickup folders expect them).
/// </summary>
internal sealed class PickupFolder(IOptions<DeliveryOptions> delivery, IOptions<VaultOptions> vault) : INextHop
{
    public string Directory { get; } = Path.Combine(vault.Value.DataPath, delivery.Value.PickupDirectory);

    public async Task<IReadOnlyList<RecipientResult>> DeliverAsync(OutboundMessage message, Func<Stream> openContent, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var path = Path.Combine(Directory, message.Id + ".eml");
        DurableFile.TryDelete(path); // a retry after a crash mid-write replaces the file
        await DurableFile.WriteAsync(path, async (stream, ct) =>
        {
            var envelope = $"X-Envelope-From: <{message.EnvelopeFrom}>\r\n" + string.Concat(recipients.Select(r => $"X-Envelope-To: <{r}>\r\n"));
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(envelope), ct);
            await MessageRewriter.WriteForRelayAsync(openContent, stream, message.Kind == OutboundKind.Relay, ct);
        }, cancellationToken);
        return recipients.Select(r => new RecipientResult(r, Outcome.Delivered, "250 2.0.0 written to the pickup folder")).ToList();
    }
}
