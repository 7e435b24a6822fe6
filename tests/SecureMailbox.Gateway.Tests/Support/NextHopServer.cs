using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>What the test's next hop answers.</summary>
public enum NextHopMode
{
    Accept,
    TemporaryFailure,

    /// <summary>451 to every sender except the null sender, so bounces still get through.</summary>
    TemporaryFailureExceptBounces,
}

/// <summary>A message the next hop received: envelope and the exact bytes.</summary>
public sealed record ReceivedMessage(string From, IReadOnlyList<string> To, byte[] Data)
{
    /// <summary>Whether the session was encrypted (STARTTLS) when the message came.</summary>
    public bool Secure { get; init; }

    /// <summary>The MAIL FROM parameters (BODY, SIZE, ...).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A real SMTP server on 127.0.0.1 (SmtpServer) standing in for the organisation's smarthost or a recipient's MX.
/// It can refuse recipients whose local part starts with "reject" (550), answer 451 to everything, or be down.
/// </summary>
public sealed class NextHopServer(IPAddress? address = null, int port = 0) : IAsyncDisposable
{
    private readonly IPAddress _address = address ?? IPAddress.Loopback;
    private SmtpServer.SmtpServer? _server;
    private CancellationTokenSource? _cancellation;
    private Task? _running;

    public ConcurrentQueue<ReceivedMessage> Messages { get; } = new();

    public NextHopMode Mode { get; set; } = NextHopMode.Accept;

    public int Port { get; private set; } = port;

    /// <summary>A certificate to offer STARTTLS with; none means no STARTTLS.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; init; }

    /// <summary>How long it takes to store each message (a slower next hop keeps deliveries in flight).</summary>
    public TimeSpan StoreDelay { get; set; }

    /// <summary>Starts on a free port, or on the port it had before (to come back after being down).</summary>
    public async Task StartAsync()
    {
        var listenerFactory = new PortCapturingListenerFactory();
        var options = new SmtpServerOptionsBuilder()
            .ServerName("nexthop.test")
            .Endpoint(b =>
            {
                b.Endpoint(new IPEndPoint(_address, Port));
                if (Certificate is not null)
                {
                    b.Certificate(Certificate);
                }
            })
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listenerFactory);
        services.Add(new Filter(this));
        services.Add(new Store(this));
        _cancellation = new CancellationTokenSource();
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_cancellation.Token);
        Port = await listenerFactory.Port.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async Task StopAsync()
    {
        if (_server is null)
        {
            return;
        }
        _cancellation!.Cancel();
        try
        {
            await _running!.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }
        _server = null;
    }

    /// <summary>Waits until at least <paramref name="count"/> messages arrived.</summary>
    public async Task<IReadOnlyList<ReceivedMessage>> WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Messages.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        return Messages.ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _cancellation?.Dispose();
    }

    private sealed class Filter(NextHopServer owner) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
        {
            if (owner.Mode == NextHopMode.TemporaryFailure || (owner.Mode == NextHopMode.TemporaryFailureExceptBounces && from is { User.Length: > 0 }))
            {
                throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)451, "4.3.2 try again later"));
            }
            return Task.FromResult(true);
        }

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            if (to.User.StartsWith("relaydenied", StringComparison.OrdinalIgnoreCase))
            {
                // What Postfix answers a client it does not relay for (no AUTH, not in mynetworks).
                throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)554, "5.7.1 <" + to.AsAddress() + ">: Relay access denied"));
            }
            if (to.User.StartsWith("reject", StringComparison.OrdinalIgnoreCase))
            {
                throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)550, "5.1.1 no such user here"));
            }
            return Task.FromResult(true);
        }
    }

    private sealed class Store(NextHopServer owner) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (owner.StoreDelay > TimeSpan.Zero)
            {
                await Task.Delay(owner.StoreDelay, cancellationToken);
            }
            // SmtpServer hands over the data without the CRLF that ends its last line (it is part of CRLF.CRLF);
            // put it back so the bytes are the message as sent.
            byte[] data = buffer.Length == 0 ? [] : [.. buffer.ToArray(), (byte)13, (byte)10];
            owner.Messages.Enqueue(new ReceivedMessage(transaction.From?.AsAddress() ?? "", transaction.To.Select(t => t.AsAddress()).ToList(), data)
            {
                Parameters = transaction.Parameters.ToDictionary(p => p.Key.ToUpperInvariant(), p => p.Value),
                Secure = context.Pipe?.IsSecure ?? false,
            });
            return SmtpResponse.Ok;
        }
    }

    private sealed class PortCapturingListenerFactory : SmtpServer.Net.EndpointListenerFactory
    {
        public TaskCompletionSource<int> Port { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override void OnEndpointStarted(SmtpServer.Net.EndpointEventArgs args)
        {
            Port.TrySetResult(((IPEndPoint)args.LocalEndPoint).Port);
            base.OnEndpointStarted(args);
        }
    }
}
