using System.Text;
using MimeKit;
using MimeKit.IO.Filters;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// An attachment as the reader found it. A forwarded message (<c>message/rfc822</c>) is offered as the bytes it was
/// sent as: <see cref="RawStart"/> and <see cref="RawEnd"/> are its offsets in the decrypted MIME stream.
/// </summary>
public sealed record AttachmentPart(int Index, string FileName, string ContentType)
{
    /// <summary>The decoded size in bytes, counted as the message is read (shown beside the name).</summary>
    public long Size { get; set; }

    public long? RawStart { get; set; }

    public long? RawEnd { get; set; }
}

/// <summary>
/// Reads a decrypted MIME message as a stream with MimeKit's <see cref="MimeReader"/>: text bodies are collected
/// (capped), attachments are listed, and, when asked, one attachment's decoded content is copied to an output as it
/// is read. Nothing holds a whole attachment in memory; the age stream authenticates every chunk it hands over.
/// Each part is handled separately (docs/rules.md E2: no concatenation of parts).
/// </summary>
public sealed class MessageContent : MimeReader
{
    private const int TextCap = 2 * 1024 * 1024;
    private const int MaxExtraTexts = 50;
    private readonly List<Header> _headers = [];
    private readonly Stack<string> _multiparts = new();
    private readonly int? _streamIndex;
    private readonly Stream? _output;
    private int _messageDepth;
    private AttachmentPart? _openMessage;
    private Part? _current;

    private MessageContent(Stream input, int? streamIndex, Stream? output)
        : base(input, MimeFormat.Default)
    {
        _streamIndex = streamIndex;
        _output = output;
    }

    public string? PlainText { get; private set; }

    public string? Html { get; private set; }

    public List<AttachmentPart> Attachments { get; } = [];

    /// <summary>
    /// Plain-text parts outside the body's <c>multipart/alternative</c> (a footer after an HTML part, several text
    /// parts in <c>multipart/mixed</c>), in message order, shown after the body so that no text is dropped (E8).
    /// </summary>
    public List<string> ExtraTexts { get; } = [];

    static MessageContent()
    {
        // Windows code pages (windows-1252, iso-8859-15, …) that much Swedish mail still uses.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
    }

    /// <summary>Reads bodies and the attachment list.</summary>
    public static async Task<MessageContent> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        var reader = new MessageContent(input, null, null);
        await reader.ReadMessageAsync(cancellationToken);
        return reader;
    }

    /// <summary>Copies attachment <paramref name="index"/>'s decoded content to <paramref name="output"/>.</summary>
    public static async Task<MessageContent> StreamAttachmentAsync(Stream input, int index, Stream output, CancellationToken cancellationToken)
    {
        var reader = new MessageContent(input, index, output);
        await reader.ReadMessageAsync(cancellationToken);
        return reader;
    }

    /// <summary>Lists attachments only (used before streaming one, for its name and type).</summary>
    public static async Task<AttachmentPart?> FindAttachmentAsync(Stream input, int index, CancellationToken cancellationToken)
    {
        var reader = new MessageContent(input, null, null);
        await reader.ReadMessageAsync(cancellationToken);
        return reader.Attachments.FirstOrDefault(a => a.Index == index);
    }

    protected override Task OnHeadersBeginAsync(long beginOffset, int beginLineNumber, CancellationToken cancellationToken)
    {
        _headers.Clear();
        return Task.CompletedTask;
    }

    protected override Task OnHeaderReadAsync(Header header, int beginLineNumber, CancellationToken cancellationToken)
    {
        if (_headers.Count < 1000)
        {
            _headers.Add(header);
        }
        return Task.CompletedTask;
    }

    protected override Task OnMessagePartBeginAsync(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken)
    {
        if (_messageDepth == 0)
        {
            _openMessage = AddAttachment(contentType, "message.eml");
        }
        _messageDepth++;
        return Task.CompletedTask;
    }

    protected override Task OnMessagePartEndAsync(ContentType contentType, long beginOffset, int beginLineNumber, long headersEndOffset, long endOffset, int lines, CancellationToken cancellationToken)
    {
        _messageDepth--;
        if (_messageDepth == 0 && _openMessage is not null)
        {
            // The embedded message is the part's content: from the end of the part's headers to its end.
            _openMessage.RawStart = headersEndOffset;
            _openMessage.RawEnd = endOffset;
            _openMessage = null;
        }
        return Task.CompletedTask;
    }

    protected override Task OnMultipartBeginAsync(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        _multiparts.Push(contentType.MediaSubtype.ToLowerInvariant());
        return Task.CompletedTask;
    }

    protected override Task OnMultipartEndAsync(ContentType contentType, long beginOffset, int beginLineNumber, long headersEndOffset, long endOffset, int lines, CancellationToken cancellationToken)
    {
        _multiparts.TryPop(out _);
        return Task.CompletedTask;
    }

    protected override Task OnMimePartBeginAsync(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        if (_messageDepth > 0)
        {
            _current = null;
            return Task.CompletedTask;
        }
        var disposition = HeaderValue("Content-Disposition");
        ContentDisposition? parsed = null;
        if (disposition is not null)
        {
            _ = ContentDisposition.TryParse(disposition, out parsed);
        }
        var encoding = ParseEncoding(HeaderValue("Content-Transfer-Encoding"));
        var fileName = parsed?.FileName ?? contentType.Name;
        var isText = contentType.IsMimeType("text", "plain") || contentType.IsMimeType("text", "html");
        var isAttachment = parsed?.IsAttachment == true || fileName is not null || !isText;
        if (isAttachment)
        {
            var attachment = AddAttachment(contentType, fileName ?? "attachment");
            _current = new Part(encoding, null, attachment.Index == _streamIndex ? _output : null, contentType.Charset, attachment);
        }
        else
        {
            var isHtml = contentType.IsMimeType("text", "html");
            // multipart/related only groups a body with its images: the enclosing kind is what counts.
            var inAlternative = _multiparts.FirstOrDefault(kind => kind != "related") == "alternative";
            if (inAlternative || (Html is null && PlainText is null))
            {
                // The body: one of the alternatives (HTML preferred when shown), or the first text part.
                _current = (isHtml ? Html : PlainText) is null
                    ? new Part(encoding, isHtml ? "html" : "plain", null, contentType.Charset)
                    : null;
            }
            else if (!isHtml && ExtraTexts.Count < MaxExtraTexts)
            {
                _current = new Part(encoding, "extra", null, contentType.Charset);
            }
            else
            {
                // A further HTML part is listed (it can be downloaded) rather than mixed into the body.
                var attachment = AddAttachment(contentType, isHtml ? "message-part.html" : "message-part.txt");
                _current = new Part(encoding, null, attachment.Index == _streamIndex ? _output : null, contentType.Charset, attachment);
            }
        }
        return Task.CompletedTask;
    }

    protected override async Task OnMimePartContentReadAsync(byte[] buffer, int startIndex, int count, CancellationToken cancellationToken)
    {
        if (_current is null)
        {
            return;
        }
        var decoded = _current.Decoder.Filter(buffer, startIndex, count, out var offset, out var length);
        await _current.WriteAsync(decoded, offset, length, cancellationToken);
    }

    protected override async Task OnMimePartEndAsync(ContentType contentType, long beginOffset, int beginLineNumber, long headersEndOffset, long endOffset, int lines, CancellationToken cancellationToken)
    {
        if (_current is null)
        {
            return;
        }
        var decoded = _current.Decoder.Flush([], 0, 0, out var offset, out var length);
        await _current.WriteAsync(decoded, offset, length, cancellationToken);
        if (_current.TextKind is not null)
        {
            var text = _current.Text();
            if (_current.TextKind == "html")
            {
                Html = text;
            }
            else if (_current.TextKind == "extra")
            {
                ExtraTexts.Add(text);
            }
            else
            {
                PlainText = text;
            }
        }
        _current = null;
    }

    /// <summary>Copies bytes [start, end) of the decrypted stream (a forwarded message, as sent) to the output.</summary>
    public static async Task CopyRangeAsync(Stream input, long start, long end, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var buffer = new byte[64 * 1024];
        long position = 0;
        while (position < end)
        {
            var read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, end - position)), cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException("The message ended before the forwarded message did.");
            }
            var from = Math.Max(position, start);
            var upto = position + read;
            if (upto > from)
            {
                await output.WriteAsync(buffer.AsMemory((int)(from - position), (int)(upto - from)), cancellationToken);
            }
            position = upto;
        }
    }

    private AttachmentPart AddAttachment(ContentType contentType, string fileName)
    {
        var part = new AttachmentPart(Attachments.Count, CleanFileName(fileName), contentType.MimeType);
        Attachments.Add(part);
        return part;
    }

    private string? HeaderValue(string field) =>
        _headers.LastOrDefault(h => h.Field.Equals(field, StringComparison.OrdinalIgnoreCase))?.Value;

    private static ContentEncoding ParseEncoding(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "base64" => ContentEncoding.Base64,
        "quoted-printable" => ContentEncoding.QuotedPrintable,
        "x-uuencode" or "uuencode" => ContentEncoding.UUEncode,
        _ => ContentEncoding.Default,
    };

    /// <summary>A file name safe to show and to offer: no path, no control characters, at most 200 characters.</summary>
    public static string CleanFileName(string name)
    {
        var clean = new string((name ?? "").Where(c => !char.IsControl(c) && c is not ('/' or '\\')).ToArray()).Trim().TrimStart('.');
        if (clean.Length == 0)
        {
            clean = "attachment";
        }
        return clean.Length > 200 ? clean[..200] : clean;
    }

    private sealed class Part(ContentEncoding encoding, string? textKind, Stream? output, string? charset, AttachmentPart? attachment = null)
    {
        private MemoryStream? _text = textKind is null ? null : new MemoryStream();

        public IMimeFilter Decoder { get; } = DecoderFilter.Create(encoding);

        public string? TextKind { get; } = textKind;

        public Stream? Output { get; } = output;

        public async Task WriteAsync(byte[] buffer, int offset, int length, CancellationToken cancellationToken)
        {
            if (length == 0)
            {
                return;
            }
            if (attachment is not null)
            {
                attachment.Size += length;
            }
            if (Output is not null)
            {
                await Output.WriteAsync(buffer.AsMemory(offset, length), cancellationToken);
            }
            else if (_text is not null && _text.Length < TextCap)
            {
                _text.Write(buffer, offset, (int)Math.Min(length, TextCap - _text.Length));
            }
        }

        public string Text()
        {
            var bytes = _text!.GetBuffer().AsSpan(0, (int)_text.Length);
            var text = Decode(bytes, charset);
            _text.Dispose();
            _text = null;
            return text;
        }
    }

    /// <summary>
    /// Text in its declared charset; an unknown or disabled one (UTF-7 is off in .NET) falls back to UTF-8 when the
    /// bytes are valid UTF-8, else to Latin-1, which maps every byte: the mail is shown, never refused (E8).
    /// </summary>
    internal static string Decode(ReadOnlySpan<byte> bytes, string? charset)
    {
        Encoding? declared = null;
        if (charset is not null && !charset.Trim().Equals("utf-7", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                declared = Encoding.GetEncoding(charset.Trim());
            }
            catch (Exception exception) when (exception is ArgumentException or NotSupportedException)
            {
            }
        }
        if (declared is not null)
        {
            return declared.GetString(bytes);
        }
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }
}
