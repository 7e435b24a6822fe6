using MimeKit;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// What the gateway changes in a relayed message: it removes every <c>X-SecureMailbox-*</c> header (DESIGN.md) and
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

    /// <summary>Loads the message for MailKit with the private headers removed (persistent: content stays on disk).</summary>
    public static async Task<RelayMessage> LoadForRelayAsync(Func<Stream> openContent, bool strip, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(openContent);
        var input = openContent();
        var combined = new MimeKit.IO.ChainedStream();
        try
        {
            var header = await ReadHeaderBlockAsync(input, cancellationToken);
            var bodyOffset = header.Length;
            header = strip ? StripPrivateHeaders(header) : header;
            combined.Add(new MemoryStream(header, writable: false));
            // The parser seeks: the rest must be its own window that starts after the original header block.
            combined.Add(new SecureMailbox.Vault.Storage.SubStream(input, bodyOffset, input.Length - bodyOffset));
            var message = await MimeMessage.LoadAsync(combined, persistent: true, cancellationToken);
            return new RelayMessage(message, combined);
        }
        catch
        {
            await combined.DisposeAsync();
            await input.DisposeAsync();
            throw;
        }
    }
}

/// <summary>A message loaded for relay whose content is still read from the queue file.</summary>
public sealed class RelayMessage(MimeMessage message, Stream source) : IDisposable
{
    public MimeMessage Message { get; } = message;

    public void Dispose()
    {
        Message.Dispose();
        source.Dispose();
    }
}
