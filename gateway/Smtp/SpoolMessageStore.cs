using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Gateway.Spool;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// The thin SMTP store: checks the captured message, writes its envelope, fsyncs and commits the spool entry,
/// then answers. Everything else (relaying, vaulting) happens in the spool processor behind it.
/// Failures answer 451 (never 250, never SmtpServer's 554 for exceptions: docs/rules.md D3).
/// </summary>
internal sealed class SpoolMessageStore(
    SpoolDirectory spool,
    MessageClassifier classifier,
    Secure.SecureSenderCheck secureSenders,
    SpoolSignal signal,
    IOptions<SmtpOptions> options,
    ILogger<SpoolMessageStore> logger) : IMessageStore
{
    private readonly SmtpOptions _options = options.Value;

    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        if (context.Pipe is not SmtpConnection connection)
        {
            throw new InvalidOperationException("The gateway's SMTP connection pipe is not in use.");
        }
        var capture = connection.TakeCompletedCapture();
        if (capture is null || buffer.Length != 0)
        {
            // Message bytes reached SmtpServer directly: the client sent DATA content before our 354.
            capture?.Abort();
            // The capture that started at the 354 is still reading; left running, it would take the client's next
            // commands as message content and the session would never answer them.
            connection.AbortActiveCapture();
            return Reply(503, "5.5.1 Improper command pipelining: message content sent before 354");
        }
        using (capture)
        {
            try
            {
                var refusal = Check(capture);
                if (refusal is not null)
                {
                    capture.Abort();
                    logger.LogWarning("Refused {SpoolId} from {Client}: {Reply}", capture.Id, connection.RemoteAddress, refusal.Message);
                    return refusal;
                }
                if (capture.StorageError is not null || capture.File is null)
                {
                    capture.Abort();
                    logger.LogError(capture.StorageError, "Could not store {SpoolId}", capture.Id);
                    return Reply(451, "4.3.0 Temporary failure storing the message; try again later");
                }
                var file = capture.File;
                await file.FlushAsync(cancellationToken);
                var inspection = Inspect(file, capture.Length);
                if (inspection.Refusal is not null)
                {
                    capture.Abort();
                    logger.LogWarning("Refused {SpoolId} from {Client}: {Reply}", capture.Id, connection.RemoteAddress, inspection.Refusal.Message);
                    return inspection.Refusal;
                }
                var sender = transaction.From?.AsAddress() ?? "";
                // Secure mail creates accounts and notifications in the organisation's name: only its own senders, and
                // only under their own address.
                if (inspection.Class == MessageClass.Secure
                    && await secureSenders.RefusalAsync(inspection.Headers!, sender, connection.AuthenticatedUser, cancellationToken) is { } refused)
                {
                    capture.Abort();
                    logger.LogWarning("Refused flagged message {SpoolId}: {Reason}", capture.Id, refused);
                    return Reply(550, "5.7.1 " + refused);
                }
                var envelope = new SpoolEnvelope
                {
                    Id = capture.Id,
                    From = sender,
                    To = transaction.To.Select(t => t.AsAddress()).ToList(),
                    EnvelopeId = transaction.Parameters.GetValueOrDefault("ENVID"),
                    Ret = transaction.Parameters.GetValueOrDefault("RET"),
                    EightBitMime = string.Equals(transaction.Parameters.GetValueOrDefault("BODY"), "8BITMIME", StringComparison.OrdinalIgnoreCase),
                    ClientAddress = connection.RemoteAddress.ToString(),
                    Helo = connection.Helo,
                    TlsProtocol = connection.IsSecure ? connection.SslProtocol.ToString() : null,
                    AuthenticatedUser = connection.AuthenticatedUser,
                    ReceivedAt = DateTimeOffset.UtcNow,
                    MessageLength = capture.Length,
                    Class = inspection.Class,
                };
                await SpoolDirectory.CommitAsync(file, envelope, spool.ReadyPathOf(capture.Id), cancellationToken);
                signal.Notify();
                logger.LogInformation("Accepted {SpoolId} ({Class}, {Size} bytes, {Recipients} recipients) from {Client}",
                    capture.Id, envelope.Class, envelope.MessageLength, envelope.To.Count, connection.RemoteAddress);
                return new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 Ok: queued as {capture.Id}");
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                capture.Abort();
                logger.LogError(exception, "Could not store {SpoolId}", capture.Id);
                return Reply(451, "4.3.0 Temporary failure storing the message; try again later");
            }
        }
    }

    private SmtpResponse? Check(DataCapture capture)
    {
        if (capture.TooLarge)
        {
            return Reply(552, $"5.3.4 Message exceeds the size limit of {_options.MaxMessageSize} bytes");
        }
        if (capture.HeaderTooLarge)
        {
            return Reply(552, $"5.3.4 Message header block exceeds {_options.MaxHeaderSize} bytes");
        }
        if (capture.NulByte)
        {
            return Reply(550, "5.6.0 Message contains a NUL byte; it was not accepted");
        }
        if (capture.BareLineEnding)
        {
            return Reply(550, "5.6.0 Message contains a bare CR or LF; lines must end with CRLF");
        }
        return null;
    }

    private (SmtpResponse? Refusal, MessageClass Class, HeaderList? Headers) Inspect(FileStream file, long length)
    {
        file.Seek(0, SeekOrigin.Begin);
        using var window = new SecureMailbox.Vault.Storage.SubStream(new NonDisposingStream(file), 0, length);
        var parserOptions = new ParserOptions { MaxMimeDepth = _options.MaxMimeDepth + 1 };
        var parser = new MimeParser(parserOptions, window, MimeFormat.Entity, persistent: true);
        var message = parser.ParseMessage();
        var received = message.Headers.Count(h => h.Id == HeaderId.Received);
        if (received >= _options.MaxReceivedHeaders)
        {
            return (Reply(554, $"5.4.6 Too many Received headers ({received}): mail loop"), MessageClass.Plain, null);
        }
        var depth = 0;
        var parts = 0;
        using (var iterator = new MimeIterator(message))
        {
            while (iterator.MoveNext())
            {
                parts++;
                depth = Math.Max(depth, iterator.Depth + 1);
                if (parts > _options.MaxMimeParts)
                {
                    return (Reply(554, $"5.6.0 Message has more than {_options.MaxMimeParts} MIME parts"), MessageClass.Plain, null);
                }
            }
        }
        if (depth >= _options.MaxMimeDepth)
        {
            return (Reply(554, $"5.6.0 MIME nesting deeper than {_options.MaxMimeDepth} levels"), MessageClass.Plain, null);
        }
        return (null, classifier.Classify(message.Headers), message.Headers);
    }

    private static SmtpResponse Reply(int code, string text) => new((SmtpReplyCode)code, text);
}

/// <summary>Lets a parser close its view without closing the spool file the store still needs.</summary>
internal sealed class NonDisposingStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => inner.Position = value; }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
