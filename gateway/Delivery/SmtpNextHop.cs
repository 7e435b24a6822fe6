using System.Net;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// Delivers over SMTP with MailKit: to the configured smarthost, or to each recipient domain's MX hosts.
/// Per-recipient answers are kept (one refused recipient does not fail the others); connection failures and
/// 4xx are transient, 5xx permanent.
/// </summary>
internal sealed class SmtpNextHop(IOptions<DeliveryOptions> options, IOptions<SmtpOptions> smtp, MxResolver mx, ILogger<SmtpNextHop> logger) : INextHop
{
    private readonly DeliveryOptions _options = options.Value;

    public async Task<IReadOnlyList<RecipientResult>> DeliverAsync(OutboundMessage message, Func<Stream> openContent, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_options.Mode == "Smarthost")
        {
            return await DeliverToHostsAsync(message, openContent, recipients, [(_options.SmarthostHost!, _options.SmarthostPort, (IPAddress?)null)], cancellationToken);
        }
        var results = new List<RecipientResult>();
        foreach (var group in recipients.GroupBy(DomainOf, StringComparer.OrdinalIgnoreCase))
        {
            IReadOnlyList<MxResolver.MailHost> hosts;
            try
            {
                hosts = await mx.ResolveAsync(group.Key, cancellationToken);
            }
            catch (MxResolutionException exception)
            {
                var outcome = exception.Permanent ? Outcome.Permanent : Outcome.Transient;
                var code = exception.Permanent ? "550 5.1.2" : "451 4.4.3";
                results.AddRange(group.Select(r => new RecipientResult(r, outcome, $"{code} {exception.Message}")));
                continue;
            }
            results.AddRange(await DeliverToHostsAsync(message, openContent, group.ToList(), hosts.Select(h => (h.Name, _options.MxPort, (IPAddress?)h.Address)).ToList(), cancellationToken));
        }
        return results;
    }

    private static string DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? "" : address[(at + 1)..];
    }

    /// <summary>Tries the hosts in order; the first that answers decides (RFC 5321 §5.1).</summary>
    private async Task<IReadOnlyList<RecipientResult>> DeliverToHostsAsync(OutboundMessage message, Func<Stream> openContent, IReadOnlyList<string> recipients, IReadOnlyList<(string Host, int Port, IPAddress? Address)> hosts, CancellationToken cancellationToken)
    {
        var lastError = "no host to try";
        foreach (var (host, port, address) in hosts)
        {
            using var client = new RecordingSmtpClient(message)
            {
                Timeout = (int)_options.CommandTimeout.TotalMilliseconds,
                LocalDomain = _options.HeloName ?? smtp.Value.ServerName,
            };
            if (!_options.ValidateCertificate)
            {
                // Operator's explicit choice for a smarthost with a private certificate; the default validates.
                client.CheckCertificateRevocation = false;
                client.ServerCertificateValidationCallback = (_, certificate, _, _) => certificate is not null;
            }
            try
            {
                var tls = _options.Tls switch
                {
                    "Required" => SecureSocketOptions.StartTls,
                    "None" => SecureSocketOptions.None,
                    _ => SecureSocketOptions.StartTlsWhenAvailable,
                };
                if (address is null)
                {
                    await client.ConnectAsync(host, port, tls, cancellationToken);
                }
                else
                {
                    // Connect to the address our resolver found, and still name the host for TLS (SNI).
                    var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    try
                    {
                        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        connectTimeout.CancelAfter(_options.CommandTimeout);
                        await socket.ConnectAsync(address, port, connectTimeout.Token);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                    await client.ConnectAsync(socket, host, port, tls, cancellationToken);
                }
            }
            catch (Exception exception) when (exception is SocketException or IOException or SslHandshakeException or SmtpProtocolException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                lastError = $"{host}[{address}]:{port}: {exception.Message}";
                logger.LogWarning("Queue item {QueueId}: cannot connect to {Host}:{Port}: {Error}", message.Id, host, port, exception.Message);
                continue;
            }
            catch (SmtpCommandException exception)
            {
                // Greeting refused (554) or service not available (421).
                return recipients.Select(r => Result(r, exception.StatusCode, exception.Message)).ToList();
            }
            try
            {
                if (!string.IsNullOrEmpty(_options.Username))
                {
                    await client.AuthenticateAsync(_options.Username, _options.Password!, cancellationToken);
                }
                using var relay = await MessageRewriter.LoadForRelayAsync(openContent, message.Kind == OutboundKind.Relay, cancellationToken);
                var sender = message.EnvelopeFrom.Length == 0 ? NullSender : MailboxAddress.Parse(message.EnvelopeFrom);
                if (!string.IsNullOrEmpty(message.Ret))
                {
                    client.DeliveryStatusNotificationType = message.Ret.Equals("HDRS", StringComparison.OrdinalIgnoreCase)
                        ? DeliveryStatusNotificationType.HeadersOnly : DeliveryStatusNotificationType.Full;
                }
                var response = await client.SendAsync(FormatOptions.Default, relay.Message, sender, recipients.Select(MailboxAddress.Parse), cancellationToken);
                await client.DisconnectAsync(true, cancellationToken);
                return recipients.Select(r => client.Refused.TryGetValue(r, out var refusal)
                    ? refusal
                    : new RecipientResult(r, Outcome.Delivered, $"250 {response}")).ToList();
            }
            catch (SmtpCommandException exception) when (exception.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
            {
                return recipients.Select(r => client.Refused.TryGetValue(r, out var refusal) ? refusal : Result(r, exception.StatusCode, exception.Message)).ToList();
            }
            catch (SmtpCommandException exception)
            {
                // MAIL FROM or DATA refused: that answer applies to every recipient (pipelined RCPT replies after a
                // refused MAIL FROM only say "bad sequence" and must not turn a 4xx into a permanent failure).
                return recipients.Select(r => Result(r, exception.StatusCode, exception.Message)).ToList();
            }
            catch (AuthenticationException exception)
            {
                return recipients.Select(r => new RecipientResult(r, Outcome.Transient, $"451 4.7.0 smarthost authentication failed: {exception.Message}")).ToList();
            }
            catch (Exception exception) when (exception is SocketException or IOException or SmtpProtocolException or TimeoutException or ServiceNotConnectedException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                lastError = $"{host}:{port}: {exception.Message}";
                logger.LogWarning("Queue item {QueueId}: connection to {Host}:{Port} failed during the transaction: {Error}", message.Id, host, port, exception.Message);
                // The transaction may or may not have completed: RFC 5321 §6.1 prefers a duplicate to a loss, so retry.
                return recipients.Select(r => new RecipientResult(r, Outcome.Transient, $"451 4.4.2 {lastError}")).ToList();
            }
        }
        return recipients.Select(r => new RecipientResult(r, Outcome.Transient, $"451 4.4.1 {lastError}")).ToList();
    }

    private static readonly MailboxAddress NullSender = new(string.Empty, string.Empty);

    private static RecipientResult Result(string address, SmtpStatusCode code, string text)
    {
        var numeric = (int)code;
        var outcome = numeric >= 500 ? Outcome.Permanent : numeric >= 400 ? Outcome.Transient : Outcome.Delivered;
        return new RecipientResult(address, outcome, $"{numeric} {text}");
    }

    /// <summary>Records refused recipients instead of failing the whole message on the first one.</summary>
    private sealed class RecordingSmtpClient(OutboundMessage queued) : SmtpClient
    {
        public Dictionary<string, RecipientResult> Refused { get; } = new(StringComparer.OrdinalIgnoreCase);

        protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
        {
            Refused[mailbox.Address] = Result(mailbox.Address, response.StatusCode, response.Response);
        }

        protected override void OnNoRecipientsAccepted(MimeMessage message)
        {
            throw new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, Refused.Values.FirstOrDefault() is { } first && first.Outcome == Outcome.Permanent ? SmtpStatusCode.MailboxUnavailable : SmtpStatusCode.MailboxBusy, "no recipient was accepted");
        }

        protected override string? GetEnvelopeId(MimeMessage message) => queued.EnvelopeId;

        /// <summary>
        /// Relays the message as received. MailKit's default re-encodes any part with a line over 998 characters (or,
        /// for a 7-bit next hop, with 8-bit content) as quoted-printable or base64 before sending: the next hop would
        /// get a different message, and DKIM body hashes would break. Only a next hop without 8BITMIME still gets that
        /// downgrade, since it may not accept 8-bit data at all (RFC 6152); MailKit itself never prepares DKIM- or
        /// ARC-signed messages.
        /// </summary>
        protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
        {
            if (constraint == EncodingConstraint.SevenBit)
            {
                base.Prepare(options, message, constraint, maxLineLength);
            }
        }
    }
}
