using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>A byte-level SMTP client for the hostile cases MailKit would never send.</summary>
public sealed class RawSmtpClient : IDisposable
{
    private readonly TcpClient _client = new();
    private Stream _stream = null!;
    private readonly StringBuilder _pending = new();

    public static async Task<RawSmtpClient> ConnectAsync(IPEndPoint endpoint)
    {
        var client = new RawSmtpClient();
        await client._client.ConnectAsync(endpoint);
        client._stream = client._client.GetStream();
        client._stream.ReadTimeout = 30_000;
        client.Greeting = await client.ReadReplyAsync();
        return client;
    }

    /// <summary>The server's 220 greeting.</summary>
    public string Greeting { get; private set; } = "";

    public Stream Stream
    {
        get => _stream;
        set => _stream = value;
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one complete (possibly multi-line) reply.</summary>
    public async Task<string> ReadReplyAsync()
    {
        var reply = new StringBuilder();
        while (true)
        {
            var line = await ReadLineAsync();
            reply.Append(line).Append('\n');
            if (line.Length < 4 || line[3] != '-')
            {
                return reply.ToString().TrimEnd('\n');
            }
        }
    }

    private async Task<string> ReadLineAsync()
    {
        var buffer = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                return text[..end];
            }
            var read = await _stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                throw new IOException("connection closed by the server");
            }
            _pending.Append((char)buffer[0]);
        }
    }

    public async Task<string> CommandAsync(string command)
    {
        await SendAsync(command + "\r\n");
        return await ReadReplyAsync();
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _client.Dispose();
    }
}
