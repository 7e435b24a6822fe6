using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Gateway.Spool;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;
using SmtpServer.Storage;
using SmtpServerServices = SmtpServer.ComponentModel.ServiceProvider;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// Runs the SMTP server on the configured address with the gateway's store, filter and connection pipe. The address
/// is bound when the service starts, so an address or port that cannot be bound stops the gateway,
/// and connections beyond the configured limits are answered <c>421 4.7.0</c> and closed.
/// </summary>
internal sealed class SmtpListener : BackgroundService
{
    private readonly SmtpOptions _options;
    private readonly ILogger<SmtpListener> _logger;
    private readonly SmtpServer.SmtpServer _server;
    private readonly ListenerFactory _listeners;

    public SmtpListener(
        IOptions<SmtpOptions> options,
        SpoolDirectory spool,
        IMessageStore store,
        RelayMailboxFilter filter,
        ConfiguredUserAuthenticator authenticator,
        ServerCertificate certificate,
        ILogger<SmtpListener> logger)
    {
        _options = options.Value;
        _logger = logger;
        ArgumentNullException.ThrowIfNull(store); // without a store SmtpServer would accept and drop mail (D3)
        var captures = new DataCaptureFactory(spool, _options.ServerName, _options.MaxMessageSize, _options.MaxHeaderSize);
        _listeners = new ListenerFactory(captures, _options, logger);
        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName(_options.ServerName)
            .MaxMessageSize((int)Math.Min(_options.MaxMessageSize, int.MaxValue))
            // The connection's own timeout (421 4.4.2) fires first; SmtpServer's would close with its own wording.
            .CommandWaitTimeout(_options.CommandTimeout + TimeSpan.FromMinutes(1))
            .MaxAuthenticationAttempts(3)
            .Endpoint(builder => builder
                .Endpoint(new IPEndPoint(IPAddress.Parse(_options.ListenAddress), _options.Port))
                .SessionTimeout(_options.SessionTimeout)
                .Certificate(certificate)
                .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                .AllowUnsecureAuthentication(false)
                .AuthenticationRequired(false))
            .Build();
        var services = new SmtpServerServices();
        services.Add(_listeners);
        services.Add(store);
        services.Add(filter);
        services.Add((SmtpServer.Protocol.ISmtpCommandFactory)new GatewayCommandFactory());
        if (_options.Users.Count > 0)
        {
            services.Add(authenticator);
        }
        _server = new SmtpServer.SmtpServer(serverOptions, services);
        _server.SessionFaulted += (_, e) => _logger.LogWarning(e.Exception, "SMTP session faulted");
    }

    /// <summary>The address and port actually bound (port 0 in configuration picks a free one).</summary>
    public Task<IPEndPoint> BoundEndpoint => _listeners.Bound.Task;

    /// <summary>
    /// Binds the configured address (once): a failure throws <see cref="ListenFailedException"/>, which names the
    /// settings, instead of leaving a gateway that runs and never listens. Program binds before the host starts.
    /// </summary>
    public void Bind()
    {
        if (_listeners.Bound.Task.IsCompleted)
        {
            return;
        }
        try
        {
            _listeners.Bind(new IPEndPoint(IPAddress.Parse(_options.ListenAddress), _options.Port));
        }
        catch (SocketException exception)
        {
            throw new ListenFailedException(
                $"Cannot listen on Smtp:ListenAddress {_options.ListenAddress} Smtp:Port {_options.Port}: {exception.Message} ({exception.SocketErrorCode})", exception);
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Bind();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var run = _server.StartAsync(stoppingToken);
        var bound = await BoundEndpoint.WaitAsync(stoppingToken);
        _logger.LogInformation("SMTP listening on {Endpoint} (max message size {MaxSize} bytes, at most {MaxConnections} sessions, {MaxPerClient} per client)",
            bound, _options.MaxMessageSize, _options.MaxConnections, _options.MaxConnectionsPerClient);
        try
        {
            await run;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private sealed class ListenerFactory(DataCaptureFactory captures, SmtpOptions options, ILogger logger) : IEndpointListenerFactory
    {
        private TcpListener? _bound;

        public TaskCompletionSource<IPEndPoint> Bound { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Bind(IPEndPoint endpoint)
        {
            var listener = new TcpListener(endpoint);
            listener.Start(backlog: 512);
            _bound = listener;
            Bound.TrySetResult((IPEndPoint)listener.LocalEndpoint);
        }

        public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition) =>
            new Listener(_bound ?? throw new InvalidOperationException("The SMTP listener was not bound at start."), captures, options, logger);
    }

    /// <summary>Accepts connections within the limits; the ones beyond get <c>421 4.7.0</c> and are closed at once.</summary>
    private sealed class Listener(TcpListener listener, DataCaptureFactory captures, SmtpOptions options, ILogger logger) : IEndpointListener
    {
        private readonly ConcurrentDictionary<IPAddress, int> _perClient = new();
        private int _total;

        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                client.NoDelay = true;
                var remote = (IPEndPoint)client.Client.RemoteEndPoint!;
                var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
                var total = Interlocked.Increment(ref _total);
                var fromClient = _perClient.AddOrUpdate(address, 1, (_, n) => n + 1);
                if (total > options.MaxConnections || fromClient > options.MaxConnectionsPerClient)
                {
                    Release(address);
                    logger.LogWarning("Connection from {Client} refused: {Total} sessions open, {FromClient} from this client (limits Smtp:MaxConnections {Max}, Smtp:MaxConnectionsPerClient {MaxPerClient})",
                        address, total - 1, fromClient - 1, options.MaxConnections, options.MaxConnectionsPerClient);
                    _ = RefuseAsync(client, total > options.MaxConnections ? "Too many connections" : "Too many connections from your address");
                    continue;
                }
                context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
                context.Properties.Add(EndpointListener.RemoteEndPointKey, remote);
                return new SmtpConnection(client, captures, options, () => Release(address));
            }
        }

        private void Release(IPAddress address)
        {
            Interlocked.Decrement(ref _total);
            _perClient.AddOrUpdate(address, 0, (_, n) => n - 1);
            _perClient.TryRemove(new KeyValuePair<IPAddress, int>(address, 0));
        }

        private async Task RefuseAsync(TcpClient client, string reason)
        {
            using (client)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"421 4.7.0 {options.ServerName} {reason}; try again later\r\n"), timeout.Token);
                }
                catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException)
                {
                }
            }
        }

        public void Dispose() => listener.Stop();
    }
}

/// <summary>The SMTP address or port could not be bound; the gateway stops with exit code 4.</summary>
public sealed class ListenFailedException(string message, Exception inner) : Exception(message, inner);
