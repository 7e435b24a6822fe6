using MimeKit;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// What the gateway changes in a relayed message: it removes every <c>X-SecureMailbox-*</c> header (docs/rules.md D14) and
/// nothing else. Its own Received header was written at the top of the spool entry when the message arrived.
/// Headers are edited as raw bytes and the body is copied untouched, so DKIM signatures still verify.
/// </summary>
public static class MessageRewriter
{
    /// <summary>Copies the message, minus the gateway's private headers, to <paramref name="output"/>.</summary>
    /// <param name="strip">false for what the gateway composed itself, which keeps its processed mark.</param>
    public static async Task WriteForRelayAsync(Func<Stream> openContent, Stream output, bool strip, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(openContent);
        await using var input = openContent();
        var headerBytes = await ReadHeaderBlockAsync(input, cancellationToken);
        await output.WriteAsync(strip ? StripPrivateHeaders(headerBytes) : headerBytes, cancellationToken);
        await input.CopyToAsync(output, 64 * 1024, cancellationToken);
    }

    /// <summary>
    /// Reads up to and including the empty line that ends the header block (or all, if there is none), in chunks,
    /// and leaves a seekable stream positioned just after it.
    /// </summary>
    internal static async Task<byte[]> ReadHeaderBlockAsync(Stream input, CancellationToken cancellationToken)
    {
        using var header = new MemoryStream();
        var buffer = new byte[8 * 1024];
        var start = input.Position;
        while (true)
        {
            var read = await input.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                return header.ToArray();
            }
            var searchFrom = (int)Math.Max(0, header.Length - 3);
            header.Write(buffer, 0, read);
            var bytes = header.GetBuffer().AsSpan(0, (int)header.Length);
            var end = EndOfHeader(bytes, searchFrom);
            if (end >= 0)
            {
                input.Seek(start + end, SeekOrigin.Begin);
                return bytes[..end].ToArray();
            }
        }
    }

    /// <summary>The length of the header block including its terminating empty line, or -1 if not yet seen.</summary>
    private static int EndOfHeader(ReadOnlySpan<byte> bytes, int from)
    {
        if (bytes.Length >= 2 && bytes[0] == '\r' && bytes[1] == '\n')
        {
            return 2; // no header fields at all
        }
        var at = bytes[from..].IndexOf("\r\n\r\n"u8);
        return at < 0 ? -1 : from + at + 4;
    }

    /// <summary>Removes the gateway's private header fields (<c>X-SecureMailbox</c>, <c>X-SecureMailbox-*</c>) from parsed headers.</summary>
    public static void RemovePrivateHeaders(HeaderList headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var header in headers.Where(h => IsPrivateField(h.Field)).ToList())
        {
            headers.Remove(header);
        }
    }

    /// <summary>Whether a field name is one of the gateway's private headers (same rule as for raw header blocks).</summary>
    public static bool IsPrivateField(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.Equals("X-SecureMailbox", StringComparison.OrdinalIgnoreCase)
            || field.StartsWith("X-SecureMailbox-", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Removes X-SecureMailbox-* header fields (with their folded continuation lines) from a raw header block.</summary>
    public static byte[] StripPrivateHeaders(byte[] headerBlock)
    {
        ArgumentNullException.ThrowIfNull(headerBlock);
        using var result = new MemoryStream(headerBlock.Length);
        var skipping = false;
        var start = 0;
        while (start < headerBlock.Length)
        {
            var end = Array.IndexOf(headerBlock, (byte)'\n', start);
            end = end < 0 ? headerBlock.Length : end + 1;
            var line = headerBlock.AsSpan(start, end - start);
            var continuation = line.Length > 0 && (line[0] == ' ' || line[0] == '\t');
            if (!continuation)
            {
                skipping = IsPrivateHeader(line);
            }
            if (!skipping)
            {
                result.Write(line);
            }
            start = end;
        }
        return result.ToArray();
    }

    private static bool IsPrivateHeader(ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> prefix = "x-securemailbox"u8;
        if (line.Length < prefix.Length)
        {
            return false;
        }
        for (var i = 0; i < prefix.Length; i++)
        {
            if (char.ToLowerInvariant((char)line[i]) != prefix[i])
            {
                return false;
            }
        }
        var next = line.Length > prefix.Length ? line[prefix.Length] : (byte)0;
        return next is (byte)'-' or (byte)':' or (byte)' ' or (byte)'\t';
    }

    /// <summary>
    /// The message for MailKit, which sends what a MimeMessage writes. MimeKit's parse-and-write loses bytes of real
    /// messages (an empty part's boundary line, odd whitespace), which changes the message and breaks DKIM, so nothing
    /// is parsed here (relayed bytes are the received bytes: docs/operators.md, Reliability): the whole header block, private lines removed, becomes the raw value of one
    /// header (MimeKit writes a raw value as it is), MimeKit writes the empty line that ends it, and the body is an
    /// entity that copies the queued bytes after the header block. The result is the queued bytes, exactly.
    /// </summary>
    /// <param name="eightBit">The client declared BODY=8BITMIME; otherwise the content is scanned for 8-bit bytes, so
    /// that MailKit passes BODY=8BITMIME on when the next hop offers it.</param>
    public static async Task<RelayMessage> LoadForRelayAsync(Func<Stream> openContent, bool strip, bool eightBit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(openContent);
        byte[] header;
        long bodyOffset;
        await using (var input = openContent())
        {
            header = await ReadHeaderBlockAsync(input, cancellationToken);
            bodyOffset = header.Length;
            if (!eightBit)
            {
                input.Seek(0, SeekOrigin.Begin);
                eightBit = await ContainsEightBitAsync(input, cancellationToken);
            }
        }
        header = strip ? StripPrivateHeaders(header) : header;
        var message = new MimeMessage();
        message.Headers.Clear();
        // MimeKit ends the header block with an empty line of its own: the raw value leaves out the one received.
        var terminated = header.AsSpan().EndsWith("\r\n\r\n"u8) || header.AsSpan().SequenceEqual("\r\n"u8);
        var fields = terminated ? header[..^2] : header;
        if (fields.Length > 0)
        {
            var colon = Array.IndexOf(fields, (byte)':');
            var newline = Array.IndexOf(fields, (byte)'\n');
            if (colon <= 0 || (newline >= 0 && newline < colon))
            {
                throw new FormatException("The queued message does not start with a header field.");
            }
            var block = new Header(System.Text.Encoding.ASCII.GetString(fields, 0, colon), "");
            block.SetRawValue(fields[(colon + 1)..]);
            message.Headers.Add(block);
        }
        message.Body = new QueuedBody(openContent, bodyOffset, eightBit);
        return new RelayMessage(message);
    }

    private static async Task<bool> ContainsEightBitAsync(Stream input, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (buffer.AsSpan(0, read).IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// The body of a message being relayed: the queued bytes after the header block, copied as they are. Its content is
/// read anew for every write (MailKit writes once to measure SIZE and once to send).
/// </summary>
internal sealed class QueuedBody : MimePart
{
    private readonly Func<Stream> _openContent;
    private readonly long _offset;

    public QueuedBody(Func<Stream> openContent, long offset, bool eightBit)
        : base("application", "octet-stream")
    {
        _openContent = openContent;
        _offset = offset;
        // MailKit chooses BODY=8BITMIME by the parts' transfer encodings: this part stands for the whole content.
        ContentTransferEncoding = eightBit ? ContentEncoding.EightBit : ContentEncoding.SevenBit;
        Headers.Clear(); // the message's own header block holds every field
    }

    /// <summary>The part has no header fields of its own, and its transfer encoding stays what the content is.</summary>
    protected override void OnHeadersChanged(HeaderListChangedAction action, Header? header)
    {
    }

    /// <summary>Nothing to prepare: the bytes go out as they are (no re-encoding of long lines or 8-bit parts).</summary>
    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var input = _openContent();
        input.Seek(_offset, SeekOrigin.Begin);
        input.CopyTo(stream, 64 * 1024);
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await using var input = _openContent();
        input.Seek(_offset, SeekOrigin.Begin);
        await input.CopyToAsync(stream, 64 * 1024, cancellationToken);
    }
}

/// <summary>A message loaded for relay whose content is still read from the queue file.</summary>
public sealed class RelayMessage(MimeMessage message) : IDisposable
{
    public MimeMessage Message { get; } = message;

    public void Dispose() => Message.Dispose();
}
