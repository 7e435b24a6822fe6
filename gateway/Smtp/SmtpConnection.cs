using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer.IO;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// One client connection: the duplex pipe SmtpServer reads commands from, over a <see cref="SmtpProtocolStream"/>
/// that streams DATA to the spool. Replaces SmtpServer's own pipe, which would buffer a whole message in memory.
/// </summary>
internal sealed class SmtpConnection : ISecurableDuplexPipe
{
    private readonly TcpClient _client;
    private readonly NetworkStream _network;
    private readonly DataCaptureFactory _captures;
    private readonly Action _closed;
    private SslStream? _ssl;
    private SmtpProtocolStream _protocol;
    private int _disposed;

    public SmtpConnection(TcpClient client, DataCaptureFactory captures, SmtpOptions options, Action closed)
    {
        ArgumentNullException.ThrowIfNull(options);
        RemoteAddress = ((System.Net.IPEndPoint)client.Client.RemoteEndPoint!).Address;
        _client = client;
        _network = client.GetStream();
        _captures = captures;
        _closed = closed;
        Options = options;
        _protocol = new SmtpProtocolStream(_network, this, expectGreeting: true);
        Input = PipeReader.Create(_protocol, new StreamPipeReaderOptions(bufferSize: 16 * 1024));
        Output = PipeWriter.Create(_protocol);
    }

    public PipeReader Input { get; private set; }

    public PipeWriter Output { get; private set; }

    public bool IsSecure => _ssl is not null;

    /// <summary>The listener's settings (server name and timeouts for the protocol stream).</summary>
    public SmtpOptions Options { get; }

    public SslProtocols SslProtocol => _ssl?.SslProtocol ?? SslProtocols.None;

    public System.Net.IPAddress RemoteAddress { get; }

    /// <summary>The user that authenticated with AUTH, if any.</summary>
    public string? AuthenticatedUser { get; set; }

    /// <summary>The EHLO/HELO argument the client gave, for the Received header.</summary>
    public string? Helo { get; set; }

    /// <summary>The DATA capture that finished and waits for the message store.</summary>
    public DataCapture? CompletedCapture { get; private set; }

    internal DataCapture StartCapture() => _captures.Create(this);

    internal void CaptureFinished(DataCapture capture)
    {
        CompletedCapture?.Abort();
        CompletedCapture = capture;
    }

    /// <summary>Stops a capture that began at the 354 although SmtpServer has already read the message from its buffer.</summary>
    internal void AbortActiveCapture() => _protocol.AbortCapture();

    /// <summary>Hands the completed capture to the store, which owns it from then on.</summary>
    public DataCapture? TakeCompletedCapture()
    {
        var capture = CompletedCapture;
        CompletedCapture = null;
        return capture;
    }

    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        var ssl = new SslStream(_network, leaveInnerStreamOpen: true);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ClientCertificateRequired = false,
                EnabledSslProtocols = protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, cancellationToken);
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
        _ssl = ssl;
        // New reader and writer: whatever plaintext the client pipelined after STARTTLS stays in the old
        // reader's buffer and is dropped (docs/rules.md S2, CVE-2011-0411 class).
        _protocol = new SmtpProtocolStream(ssl, this, expectGreeting: false);
        Input = PipeReader.Create(_protocol, new StreamPipeReaderOptions(bufferSize: 16 * 1024));
        Output = PipeWriter.Create(_protocol);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _closed();
        _protocol.AbortCapture();
        CompletedCapture?.Abort();
        CompletedCapture = null;
        _ssl?.Dispose();
        _client.Dispose();
    }
}

/// <summary>Creates spool captures in the spool's temporary folder.</summary>
internal sealed class DataCaptureFactory(Spool.SpoolDirectory spool, string serverName, long maxSize, int maxHeaderSize)
{
    public DataCapture Create(SmtpConnection connection)
    {
        var id = Spool.SpoolDirectory.NewId();
        var received = ReceivedHeader(connection, id);
        return new DataCapture(id, spool.TemporaryPathOf(id), maxSize, maxHeaderSize, System.Text.Encoding.ASCII.GetBytes(received));
    }

    /// <summary>The trace header of RFC 5321 §4.4, with the protocol names of RFC 3848.</summary>
    private string ReceivedHeader(SmtpConnection connection, string id)
    {
        var protocol = "ESMTP" + (connection.IsSecure ? "S" : "") + (connection.AuthenticatedUser is null ? "" : "A");
        var helo = SanitiseHelo(connection.Helo);
        var date = MimeKit.Utils.DateUtils.FormatDate(DateTimeOffset.UtcNow);
        var tls = connection.IsSecure ? $"\r\n\t(using {connection.SslProtocol})" : "";
        return $"Received: from {helo} ([{connection.RemoteAddress}]){tls}\r\n\tby {serverName} (SecureMailbox) with {protocol} id {id};\r\n\t{date}\r\n";
    }

    private static string SanitiseHelo(string? helo)
    {
        if (string.IsNullOrEmpty(helo))
        {
            return "unknown";
        }
        var clean = new string(helo.Where(c => c > ' ' && c < 127 && c != '(' && c != ')' && c != ';').Take(255).ToArray());
        return clean.Length == 0 ? "unknown" : clean;
    }
}
