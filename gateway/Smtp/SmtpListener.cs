using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Gateway.Spool;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;
using SmtpServer.Storage;
using SmtpServerServices = SmtpServer.ComponentModel.ServiceProvider;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>Runs the SMTP server on the configured address with the gateway's store, filter and connection pipe.</summary>
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
        _listeners = new ListenerFactory(captures);
        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName(_options.ServerName)
            .MaxMessageSize((int)Math.Min(_options.MaxMessageSize, int.MaxValue))
            .CommandWaitTimeout(_options.CommandTimeout)
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var run = _server.StartAsync(stoppingToken);
        var bound = await BoundEndpoint.WaitAsync(stoppingToken);
        _logger.LogInformation("SMTP listening on {Endpoint} (max message size {MaxSize} bytes)", bound, _options.MaxMessageSize);
        try
        {
            await run;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private sealed class ListenerFactory(DataCaptureFactory captures) : IEndpointListenerFactory
    {
        public TaskCompletionSource<IPEndPoint> Bound { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
        {
            var listener = new TcpListener(endpointDefinition.Endpoint);
            listener.Start(backlog: 512);
            Bound.TrySetResult((IPEndPoint)listener.LocalEndpoint);
            return new Listener(listener, captures);
        }
    }

    private sealed class Listener(TcpListener listener, DataCaptureFactory captures) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            client.NoDelay = true;
            context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
            context.Properties.Add(EndpointListener.RemoteEndPointKey, client.Client.RemoteEndPoint!);
            return new SmtpConnection(client, captures);
        }

        public void Dispose() => listener.Stop();
    }
}
