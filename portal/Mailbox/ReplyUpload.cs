using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>Configuration section <c>Mailbox</c>: reply size caps per plan (Professional attaches up to 500 MB).</summary>
public sealed class MailboxOptions
{
    public const string Section = "Mailbox";

    [System.ComponentModel.DataAnnotations.Range(1L, 10L * 1024 * 1024 * 1024)]
    public long MaxReplyBytesBasic { get; set; } = 25L * 1024 * 1024;

    [System.ComponentModel.DataAnnotations.Range(1L, 10L * 1024 * 1024 * 1024)]
    public long MaxReplyBytesProfessional { get; set; } = 500L * 1024 * 1024;

    public long MaxReplyBytes(Plan plan) => plan == Plan.Professional ? MaxReplyBytesProfessional : MaxReplyBytesBasic;
}

/// <summary>A file of a reply, read from the request as it is encrypted.</summary>
public sealed record ReplyFile(string FileName, string ContentType, Stream Content);

/// <summary>A reply over the plan's cap (counted while streaming).</summary>
public sealed class ReplyTooLargeException : Exception
{
    public ReplyTooLargeException()
        : base("The reply is larger than the plan allows.")
    {
    }

    public ReplyTooLargeException(string message)
        : base(message)
    {
    }

    public ReplyTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// <c>POST /mailbox/m/{id}/reply/send</c>: the reply form read as a stream (docs/rules.md E3, docs/rules.md property 4). The
/// form's first field is the anti-forgery token (validated before anything else is read), then <c>all</c> and
/// <c>body</c>, then the files, which go from the request straight into the encrypting writer: no temp file, no
/// whole file in memory, and the plan's cap is counted as the bytes arrive.
/// </summary>
public static class ReplyUploadEndpoint
{
    public const string TokenHeader = "X-Smbx-Form-Token";
    private const int FieldLimit = 256 * 1024;

    public static IEndpointRouteBuilder MapReplyUpload(this IEndpointRouteBuilder app)
    {
        app.MapPost("/mailbox/m/{id:guid}/reply/send", SendAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> SendAsync(
        Guid id, HttpContext context, SessionStore sessions, IAntiforgery antiforgery, MailboxQueries queries, ReplyService replies,
        Microsoft.Extensions.Options.IOptions<MailboxOptions> options, Microsoft.EntityFrameworkCore.IDbContextFactory<SecureMailbox.Vault.Data.VaultDbContext> vaultFactory,
        ILoggerFactory loggers)
    {
        var cancellationToken = context.RequestAborted;
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            return Results.BadRequest();
        }
        // Who and how much first (cookies only), before a byte of the body is read.
        var session = await sessions.ResolveAsync(context, cancellationToken);
        if (session is null)
        {
            return Results.Redirect("/signin");
        }
        await using var db = await vaultFactory.CreateDbContextAsync(cancellationToken);
        var plan = (await db.Accounts.FindAsync([session.AccountId], cancellationToken))!.Plan;
        var max = options.Value.MaxReplyBytes(plan);
        var bodyFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodyFeature is { IsReadOnly: false })
        {
            bodyFeature.MaxRequestBodySize = max + 1024 * 1024; // the files plus the form's other fields and boundaries
        }
        var reader = new MultipartReader(boundary, context.Request.Body) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
        var first = await reader.ReadNextSectionAsync(cancellationToken);
        var token = first is null ? null : await ReadFieldAsync(first, "__csrf", cancellationToken);
        if (token is null)
        {
            return Results.BadRequest();
        }
        context.Request.Headers[TokenHeader] = token;
        try
        {
            await antiforgery.ValidateRequestAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            return Results.BadRequest();
        }
        var found = await queries.FindAsync(session, id, cancellationToken);
        if (found is null || found.Value.Item.Folder == Folder.Trash)
        {
            return Results.NotFound();
        }

        string? all = null;
        string? body = null;
        MultipartSection? pendingFile = null;
        for (var section = await reader.ReadNextSectionAsync(cancellationToken); section is not null; section = await reader.ReadNextSectionAsync(cancellationToken))
        {
            var disposition = section.GetContentDispositionHeader();
            if (disposition is null)
            {
                return Results.BadRequest();
            }
            if (disposition.IsFileDisposition())
            {
                pendingFile = section;
                break;
            }
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            var value = await ReadFieldAsync(section, name, cancellationToken);
            if (name == "all")
            {
                all = value;
            }
            else if (name == "body")
            {
                body = value;
            }
        }
        if (string.IsNullOrWhiteSpace(body) || body.Length > 200_000)
        {
            return Results.Redirect($"/mailbox/m/{id}/reply?error=invalid");
        }
        var clean = new string(body.Where(c => c is '\n' or '\r' or '\t' || !char.IsControl(c)).ToArray());
        var metadata = await VaultReader.ReadMetadataAsync(found.Value.Item.EncryptedMetadata, session.Key, cancellationToken);
        var counted = 0L;

        async Task<ReplyFile?> NextFileAsync()
        {
            while (true)
            {
                var section = pendingFile ?? await reader.ReadNextSectionAsync(cancellationToken);
                pendingFile = null;
                if (section is null)
                {
                    return null;
                }
                var disposition = section.GetContentDispositionHeader();
                if (disposition is null || !disposition.IsFileDisposition())
                {
                    await section.Body.DrainAsync(cancellationToken);
                    continue;
                }
                var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "attachment";
                if (fileName.Length == 0)
                {
                    // An empty file input sends a part without a name.
                    await section.Body.DrainAsync(cancellationToken);
                    continue;
                }
                return new ReplyFile(fileName, section.ContentType ?? "application/octet-stream",
                    new CountingStream(section.Body, n => { counted += n; if (counted > max) { throw new ReplyTooLargeException(); } }));
            }
        }

        try
        {
            var result = await replies.ReplyStreamingAsync(session, found.Value.Item, metadata, all == "true", clean, NextFileAsync, cancellationToken);
            if (!result.Stored)
            {
                return Results.Redirect($"/mailbox/m/{id}/reply?error=nobody");
            }
            return Results.Redirect(result.Refused.Count == 0 ? "/mailbox/sent?done=" + MailboxFeedback.Sent : $"/mailbox/sent?done={MailboxFeedback.Sent}&notReached={result.Refused.Count}");
        }
        catch (Exception exception) when (exception is ReplyTooLargeException || exception.InnerException is ReplyTooLargeException)
        {
            loggers.CreateLogger(typeof(ReplyUploadEndpoint)).LogInformation("Reply from account {AccountId} refused: over the plan's {Max} bytes", session.AccountId, max);
            return Results.Redirect($"/mailbox/m/{id}/reply?error=toolarge");
        }
    }

    private static async Task<string?> ReadFieldAsync(MultipartSection section, string expectedName, CancellationToken cancellationToken)
    {
        var disposition = section.GetContentDispositionHeader();
        if (disposition is null || !disposition.IsFormDisposition() || HeaderUtilities.RemoveQuotes(disposition.Name).Value != expectedName)
        {
            return null;
        }
        var buffer = new byte[FieldLimit + 1];
        var total = 0;
        int read;
        while ((read = await section.Body.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
            if (total > FieldLimit)
            {
                return null;
            }
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <summary>Counts bytes as they are read (the plan's cap) without buffering.</summary>
    private sealed class CountingStream(Stream inner, Action<int> onRead) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            onRead(read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            onRead(read);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
