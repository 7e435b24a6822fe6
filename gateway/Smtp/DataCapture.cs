using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// Receives the DATA section of one transaction straight into a spool file, so memory stays bounded
/// whatever the message size (docs/rules.md S5). It un-stuffs dots (RFC 5321 §4.5.2), ends only at
/// CRLF.CRLF (S1: a bare LF or CR never ends DATA and is flagged), and counts the size and the header block
/// as it goes; past a limit it keeps reading to the end of DATA but stops writing.
/// </summary>
internal sealed class DataCapture : IDisposable
{
    private enum State
    {
        Normal,
        SawCr,
        LineStartDot,
        LineStartDotCr,
    }

    private readonly long _maxSize;
    private readonly int _maxHeaderSize;
    private readonly byte[] _out = new byte[64 * 1024];
    private FileStream? _file;
    private int _outCount;
    private State _state = State.Normal;
    private bool _lineStart = true;
    private bool _inHeaders = true;
    private bool _finished;

    /// <param name="prefix">Bytes written before the message: the gateway's own Received header.</param>
    public DataCapture(string id, string path, long maxSize, int maxHeaderSize, ReadOnlySpan<byte> prefix)
    {
        Id = id;
        TemporaryPath = path;
        _maxSize = maxSize + prefix.Length;
        _maxHeaderSize = maxHeaderSize + prefix.Length;
        try
        {
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.Asynchronous);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Thrown here it would fault the session at 354 and drop the connection; instead the DATA is read to its
            // end and the store answers 451 (docs/rules.md D3).
            StorageError = exception;
        }
        prefix.CopyTo(_out);
        _outCount = prefix.Length;
        Length = prefix.Length;
        HeaderLength = prefix.Length;
    }

    public string Id { get; }

    public string TemporaryPath { get; }

    /// <summary>Bytes of the message after un-stuffing.</summary>
    public long Length { get; private set; }

    public long HeaderLength { get; private set; }

    public bool TooLarge { get; private set; }

    public bool HeaderTooLarge { get; private set; }

    public bool BareLineEnding { get; private set; }

    /// <summary>A NUL byte was seen: a next hop that stops at NUL would read what follows as commands.</summary>
    public bool NulByte { get; private set; }

    /// <summary>Why the spool file could not be created or written (the message is answered 451), or null.</summary>
    public Exception? StorageError { get; private set; }

    public bool IsComplete => _finished;

    /// <summary>The open spool file (positioned at its end) for the store to finish; null once discarded.</summary>
    public FileStream? File => _file;

    /// <summary>
    /// Feeds network bytes; returns how many were consumed. Stops early when the end of DATA is found
    /// (the rest belongs to the next command) or when the output buffer must be flushed first.
    /// </summary>
    public int Feed(ReadOnlySpan<byte> input)
    {
        var i = 0;
        while (i < input.Length && !_finished && _outCount < _out.Length - 2)
        {
            var b = input[i++];
            if (b == 0)
            {
                NulByte = true;
            }
            switch (_state)
            {
                case State.Normal:
                    if (b == '\r')
                    {
                        _state = State.SawCr;
                    }
                    else if (b == '\n')
                    {
                        BareLineEnding = true; // a bare LF never starts a new line for the terminator (smuggling)
                        Emit(b);
                        _lineStart = false;
                    }
                    else if (_lineStart && b == '.')
                    {
                        _state = State.LineStartDot;
                    }
                    else
                    {
                        Emit(b);
                        _lineStart = false;
                    }
                    break;
                case State.SawCr:
                    if (b == '\n')
                    {
                        if (_lineStart && _inHeaders)
                        {
                            _inHeaders = false; // the empty line that ends the header block
                        }
                        Emit((byte)'\r');
                        Emit((byte)'\n');
                        _lineStart = true;
                        _state = State.Normal;
                    }
                    else
                    {
                        BareLineEnding = true;
                        Emit((byte)'\r');
                        _lineStart = false;
                        _state = State.Normal;
                        i--; // look at this byte again in the normal state
                    }
                    break;
                case State.LineStartDot:
                    if (b == '\r')
                    {
                        _state = State.LineStartDotCr;
                    }
                    else
                    {
                        // A leading dot on a non-empty line is removed (transparency, RFC 5321 §4.5.2).
                        _state = State.Normal;
                        _lineStart = false;
                        i--;
                    }
                    break;
                case State.LineStartDotCr:
                    if (b == '\n')
                    {
                        _finished = true; // CRLF . CRLF: the CRLF before the dot already belongs to the message
                    }
                    else
                    {
                        BareLineEnding = true;
                        _state = State.Normal;
                        _lineStart = false;
                        Emit((byte)'\r');
                        i--;
                    }
                    break;
            }
        }
        return i;
    }

    public bool NeedsFlush => _outCount >= _out.Length - 2 || (_finished && _outCount > 0);

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_outCount == 0)
        {
            return;
        }
        if (_file is not null)
        {
            try
            {
                await _file.WriteAsync(_out.AsMemory(0, _outCount), cancellationToken);
            }
            catch (IOException exception)
            {
                // Disk full or failing: keep reading DATA to its end so the store can answer 451, not 554 (D3).
                StorageError = exception;
                Discard();
            }
        }
        _outCount = 0;
    }

    private void Emit(byte b)
    {
        Length++;
        if (_inHeaders)
        {
            HeaderLength++;
            if (HeaderLength > _maxHeaderSize && !HeaderTooLarge)
            {
                HeaderTooLarge = true;
                Discard();
            }
        }
        if (Length > _maxSize && !TooLarge)
        {
            TooLarge = true;
            Discard();
        }
        if (_file is not null)
        {
            _out[_outCount++] = b;
        }
    }

    /// <summary>Stops writing: the message will be refused, so its bytes need not be kept.</summary>
    private void Discard()
    {
        _outCount = 0;
        _file?.Dispose();
        _file = null;
        DurableFile.TryDelete(TemporaryPath);
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }

    /// <summary>Removes the partial spool file (connection lost, message refused).</summary>
    public void Abort()
    {
        Dispose();
        DurableFile.TryDelete(TemporaryPath);
    }
}
