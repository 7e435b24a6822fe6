using System.Collections.Concurrent;
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
internal sealed class SmtpNextHop(IOptions<DeliveryOptions> options, IOptions<SmtpOptions> smtp, MxResolver mx, NextHopCertificatePolicy certificates, ILogger<SmtpNextHop> logger) : INextHop, IDisposable
{
    /// <summary>How long an idle connection is kept for the next message (Postfix's connection cache keeps 2 s).</summary>
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(5);

    private readonly DeliveryOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(RecordingSmtpClient Client, long IdleSince)>> _idle = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A connected client from the cache, or null; stale or dropped connections are closed on the way.</summary>
    private RecordingSmtpClient? TakeIdle(string key)
    {
        if (!_idle.TryGetValue(key, out var queue))
        {
            return null;
        }
        while (queue.TryDequeue(out var entry))
        {
            if (entry.Client.IsConnected && System.Diagnostics.Stopwatch.GetElapsedTime(entry.IdleSince) < IdleLimit)
            {
                return entry.Client;
            }
            entry.Client.Dispose();
        }
        return null;
    }

    private void ReturnIdle(string key, RecordingSmtpClient client) =>
        _idle.GetOrAdd(key, _ => new ConcurrentQueue<(RecordingSmtpClient, long)>()).Enqueue((client, System.Diagnostics.Stopwatch.GetTimestamp()));

    public void Dispose()
    {
        foreach (var queue in _idle.Values)
        {
            while (queue.TryDequeue(out var entry))
            {
                entry.Client.Dispose();
            }
        }
    }

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
            var key = $"{host}|{address}|{port}";
            var cached = TakeIdle(key);
            if (cached is not null)
            {
                // A cached connection skips connect, EHLO, STARTTLS and AUTH. Should it fail, the message is tried
                // once more on a new connection below, as after any connection loss.
                var outcome = await SendAsync(cached, key, message, openContent, recipients, host, port, cancellationToken);
                if (outcome is not null)
                {
                    return outcome;
                }
            }
            var client = new RecordingSmtpClient
            {
                Timeout = (int)_options.CommandTimeout.TotalMilliseconds,
                LocalDomain = _options.HeloName ?? smtp.Value.ServerName,
            };
            client.ServerCertificateValidationCallback = certificates.Validate;
            client.CheckCertificateRevocation = certificates.Verifies && _options.CertificateFingerprints.Count == 0 && string.IsNullOrEmpty(_options.TrustedCaFile);
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
                client.Dispose();
                lastError = $"{host}[{address}]:{port}: {exception.Message}";
                logger.LogWarning("Queue item {QueueId}: cannot connect to {Host}:{Port}: {Error}", message.Id, host, port, exception.Message);
                continue;
            }
            catch (SmtpCommandException exception)
            {
                // Greeting refused (554) or service not available (421).
                client.Dispose();
                return recipients.Select(r => Result(r, exception.StatusCode, exception.Message)).ToList();
            }
            if (!string.IsNullOrEmpty(_options.Username))
            {
                try
                {
                    await client.AuthenticateAsync(_options.Username, _options.Password!, cancellationToken);
                }
                catch (Exception exception) when (exception is AuthenticationException or SmtpCommandException or IOException or SmtpProtocolException)
                {
                    client.Dispose();
                    return recipients.Select(r => new RecipientResult(r, Outcome.Transient, $"451 4.7.0 smarthost authentication failed: {exception.Message}")).ToList();
                }
            }
            return await SendAsync(client, key, message, openContent, recipients, host, port, cancellationToken)
                ?? recipients.Select(r => new RecipientResult(r, Outcome.Transient, $"451 4.4.2 {host}:{port}: connection lost during the transaction")).ToList();
        }
        return recipients.Select(r => new RecipientResult(r, Outcome.Transient, $"451 4.4.1 {lastError}")).ToList();
    }

    /// <summary>
    /// One transaction on a connected client. Returns the per-recipient results, or null when the connection was lost
    /// (the client is then closed; the transaction may or may not have completed — RFC 5321 §6.1 prefers a duplicate
    /// to a loss, so the caller retries). A client that ends its transaction cleanly goes back to the cache.
    /// </summary>
    private async Task<IReadOnlyList<RecipientResult>?> SendAsync(RecordingSmtpClient client, string key, OutboundMessage message, Func<Stream> openContent, IReadOnlyList<string> recipients, string host, int port, CancellationToken cancellationToken)
    {
        client.Begin(message);
        var reusable = false;
        try
        {
            using var relay = await MessageRewriter.LoadForRelayAsync(openContent, message.Kind == OutboundKind.Relay, message.EightBitMime, cancellationToken);
            var sender = message.EnvelopeFrom.Length == 0 ? NullSender : MailboxAddress.Parse(message.EnvelopeFrom);
            client.DeliveryStatusNotificationType = string.IsNullOrEmpty(message.Ret)
                ? DeliveryStatusNotificationType.Unspecified
                : message.Ret.Equals("HDRS", StringComparison.OrdinalIgnoreCase) ? DeliveryStatusNotificationType.HeadersOnly : DeliveryStatusNotificationType.Full;
            var response = await client.SendAsync(FormatOptions.Default, relay.Message, sender, recipients.Select(MailboxAddress.Parse), cancellationToken);
            reusable = true; // the transaction ended with the next hop's answer to DATA
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
        catch (Exception exception) when (exception is SocketException or IOException or SmtpProtocolException or TimeoutException or ServiceNotConnectedException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning("Queue item {QueueId}: connection to {Host}:{Port} failed during the transaction: {Error}", message.Id, host, port, exception.Message);
            return null;
        }
        finally
        {
            // Only a connection whose transaction ended cleanly is kept; after a refusal it is closed, not reset.
            if (reusable && client.IsConnected)
            {
                ReturnIdle(key, client);
            }
            else
            {
                client.Dispose();
            }
        }
    }

    private static readonly MailboxAddress NullSender = new(string.Empty, string.Empty);

    private static RecipientResult Result(string address, SmtpStatusCode code, string text)
    {
        var numeric = (int)code;
        var outcome = numeric >= 500 ? Outcome.Permanent : numeric >= 400 ? Outcome.Transient : Outcome.Delivered;
        return new RecipientResult(address, outcome, $"{numeric} {text}");
    }

    /// <summary>Records refused recipients instead of failing the whole message on the first one.</summary>
    private sealed class RecordingSmtpClient : SmtpClient
    {
        private OutboundMessage? _queued;

        public Dictionary<string, RecipientResult> Refused { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Starts a transaction for a queued message (a cached connection carries many).</summary>
        public void Begin(OutboundMessage queued)
        {
            _queued = queued;
            Refused.Clear();
        }

        protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
        {
            Refused[mailbox.Address] = Result(mailbox.Address, response.StatusCode, response.Response);
        }

        protected override void OnNoRecipientsAccepted(MimeMessage message)
        {
            throw new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, Refused.Values.FirstOrDefault() is { } first && first.Outcome == Outcome.Permanent ? SmtpStatusCode.MailboxUnavailable : SmtpStatusCode.MailboxBusy, "no recipient was accepted");
        }

        protected override string? GetEnvelopeId(MimeMessage message) => _queued?.EnvelopeId;

        /// <summary>
        /// Relays the message as received: no re-encoding of long lines or 8-bit parts, which would change the bytes
        /// and break DKIM body hashes. A next hop without 8BITMIME gets the 8-bit bytes as they are,
        /// as Postfix sends them by default; such next hops are rare today and the alternative changes the message.
        /// </summary>
        protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
        {
        }
    }
}
