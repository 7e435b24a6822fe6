using System.Text;
using System.Text.RegularExpressions;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// Sits between the socket (or TLS stream) and SmtpServer's pipes and follows the conversation:
/// when the server answers 354 the client's DATA bytes go to a <see cref="DataCapture"/> instead of the pipe,
/// and SmtpServer sees an empty message ended by CRLF.CRLF. It also adds RFC 3463 enhanced status codes to
/// SmtpServer's replies (ENHANCEDSTATUSCODES) and remembers the EHLO name.
/// </summary>
internal sealed partial class SmtpProtocolStream(Stream inner, SmtpConnection connection, bool expectGreeting) : Stream
{
    private static readonly byte[] EmptyDataBlock = "\r\n.\r\n"u8.ToArray();
    private readonly byte[] _dataBuffer = new byte[64 * 1024];
    private readonly Queue<string> _commands = new();
    private readonly StringBuilder _inputLine = new();
    private readonly StringBuilder _outputLine = new();
    private bool _greetingPending = expectGreeting;
    private DataCapture? _capture;
    private byte[] _pending = [];
    private int _pendingOffset;
    private int _pendingCount;
    private bool _timedOut;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_capture is not null)
        {
            return await ReadDataAsync(buffer, cancellationToken);
        }
        int read;
        if (_pendingCount > 0)
        {
            read = Math.Min(buffer.Length, _pendingCount);
            _pending.AsSpan(_pendingOffset, read).CopyTo(buffer.Span);
            _pendingOffset += read;
            _pendingCount -= read;
        }
        else
        {
            read = await ReadClientAsync(buffer, cancellationToken);
        }
        TrackCommands(buffer.Span[..read]);
        return read;
    }

    /// <summary>Reads DATA into the capture until CRLF.CRLF, then gives SmtpServer an empty message.</summary>
    private async ValueTask<int> ReadDataAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var capture = _capture!;
        while (true)
        {
            int count;
            int offset;
            if (_pendingCount > 0)
            {
                count = _pendingCount;
                offset = _pendingOffset;
                _pendingCount = 0;
                _pending.AsSpan(offset, count).CopyTo(_dataBuffer);
            }
            else
            {
                count = await ReadClientAsync(_dataBuffer, cancellationToken);
                if (count == 0)
                {
                    AbortCapture(); // the client went away mid-DATA: nothing was accepted (D2)
                    return 0;
                }
            }
            var position = 0;
            while (position < count && !capture.IsComplete)
            {
                position += capture.Feed(_dataBuffer.AsSpan(position, count - position));
                if (capture.NeedsFlush)
                {
                    await capture.FlushAsync(cancellationToken);
                }
            }
            if (!capture.IsComplete)
            {
                continue;
            }
            await capture.FlushAsync(cancellationToken);
            _capture = null;
            connection.CaptureFinished(capture);
            _commands.Enqueue("."); // the reply to end-of-data answers this
            // What follows the terminator is the next command (pipelining): keep it for the next reads.
            var rest = count - position;
            var leftover = new byte[EmptyDataBlock.Length + rest];
            EmptyDataBlock.CopyTo(leftover, 0);
            _dataBuffer.AsSpan(position, rest).CopyTo(leftover.AsSpan(EmptyDataBlock.Length));
            var give = Math.Min(buffer.Length, EmptyDataBlock.Length);
            leftover.AsSpan(0, give).CopyTo(buffer.Span);
            // The synthetic terminator is not tracked as a command; the real leftover bytes are tracked when read.
            _pending = leftover;
            _pendingOffset = give;
            _pendingCount = leftover.Length - give;
            if (give < EmptyDataBlock.Length)
            {
                throw new InvalidOperationException("Read buffer smaller than the DATA terminator.");
            }
            return give;
        }
    }

    /// <summary>
    /// Reads from the client, waiting at most Smtp:CommandTimeout (RFC 5321 §4.5.3.2.7); then the session ends with
    /// <c>421 4.4.2</c> (§3.8: a server closing on its own says 421 first) and looks like a closed connection to
    /// SmtpServer, whose own timeout would close with other wording.
    /// </summary>
    private async ValueTask<int> ReadClientAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_timedOut)
        {
            return 0;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connection.Options.CommandTimeout);
        try
        {
            return await inner.ReadAsync(buffer, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _timedOut = true;
            AbortCapture(); // a message cut off by the timeout was never acknowledged: nothing is kept
            try
            {
                using var write = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await inner.WriteAsync(Encoding.ASCII.GetBytes($"421 4.4.2 {connection.Options.ServerName} Timeout waiting for the client; closing connection\r\n"), write.Token);
                await inner.FlushAsync(write.Token);
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
            {
            }
            return 0;
        }
    }

    public void AbortCapture()
    {
        _capture?.Abort();
        _capture = null;
    }

    private void TrackCommands(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b == '\n')
            {
                var line = _inputLine.ToString().TrimEnd('\r');
                _inputLine.Clear();
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                var verb = (space < 0 ? line : line[..space]).ToUpperInvariant();
                _commands.Enqueue(verb);
                if ((verb == "EHLO" || verb == "HELO") && space > 0)
                {
                    connection.Helo = line[(space + 1)..].Trim();
                }
            }
            else if (_inputLine.Length < 1024)
            {
                _inputLine.Append((char)b);
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_timedOut)
        {
            return; // the 421 was the last word
        }
        // Replies are ASCII; rewrite whole lines only.
        var output = new StringBuilder();
        foreach (var b in buffer.Span)
        {
            _outputLine.Append((char)b);
            if (b == '\n')
            {
                output.Append(RewriteReply(_outputLine.ToString()));
                _outputLine.Clear();
            }
        }
        if (output.Length > 0)
        {
            await inner.WriteAsync(Encoding.Latin1.GetBytes(output.ToString()), cancellationToken);
        }
    }

    private string RewriteReply(string line)
    {
        if (line.Length < 4 || !char.IsAsciiDigit(line[0]))
        {
            return line;
        }
        var code = line[..3];
        var isLast = line[3] != '-';
        string? command = null;
        if (isLast)
        {
            if (_greetingPending)
            {
                // SmtpServer's greeting names the library and its version: say only who we are.
                _greetingPending = false;
                return code == "220" ? $"220 {connection.Options.ServerName} ESMTP SecureMailbox\r\n" : line;
            }
            _commands.TryDequeue(out command);
        }
        else
        {
            _commands.TryPeek(out command);
        }
        if (code == "501" && line.AsSpan(4).StartsWith("expected ", StringComparison.Ordinal))
        {
            // SmtpServer answers a command given in the wrong state with 501 "expected ..."; RFC 5321 §4.3.2 and
            // §4.2.4 call that a bad sequence of commands: 503 (clients tell syntax errors from ordering errors by it).
            code = "503";
            line = "503" + line[3..];
        }
        if (code == "354" && isLast)
        {
            // DATA ends a pipelined group (RFC 2920 §3.1): anything queued behind it was message content sent before
            // the 354, and must not be paired with the replies that follow.
            _commands.Clear();
            _capture = connection.StartCapture();
            return line;
        }
        if (command is "EHLO" or "HELO" || code[0] is not ('2' or '4' or '5') || EnhancedCode().IsMatch(line))
        {
            return line;
        }
        var enhanced = EnhancedFor(code, command);
        return $"{line[..4]}{enhanced} {line[4..]}";
    }

    private static string EnhancedFor(string code, string? command) => code switch
    {
        "250" when command == "MAIL" => "2.1.0",
        "250" when command == "RCPT" => "2.1.5",
        "235" => "2.7.0",
        "500" => "5.5.2",
        "501" => "5.5.4",
        "502" or "503" => "5.5.1",
        "504" => "5.5.4",
        "530" => "5.7.0",
        "535" => "5.7.8",
        "550" when command is "MAIL" or "RCPT" => "5.7.1",
        "552" => "5.3.4",
        "553" => "5.1.3",
        "421" => "4.4.2",
        "451" => "4.3.0",
        "452" => "4.3.1",
        "454" => "4.7.0",
        _ => $"{code[0]}.0.0",
    };

    [GeneratedRegex(@"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}(\s|$)")]
    private static partial Regex EnhancedCode();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
