using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Phones;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Vault.Messages;

/// <summary>A recipient of a message being stored.</summary>
/// <param name="Address">The recipient's address.</param>
/// <param name="Phone">The mobile number the sender gave, if any.</param>
/// <param name="MailboxProvesIdentity">
/// For an existing pending account without a number (an organisation sender a reply goes back to): the link alone,
/// mailed to that address, proves control of the mailbox, so no number is needed.
/// </param>
public sealed record RecipientRequest(string Address, string? Phone, bool MailboxProvesIdentity = false);

/// <summary>What happened to one reader of a stored message.</summary>
public sealed record StoredReader(string Address, Account Account, NotificationLink Link, string Token, bool IsSender);

/// <summary>A recipient the message could not be stored for, and why.</summary>
public sealed record RefusedRecipient(string Address, string Reason);

/// <summary>The outcome of <see cref="VaultWriter.StoreAsync"/>.</summary>
public sealed record StoreResult(Guid MessageId, bool AlreadyStored, IReadOnlyList<StoredReader> Readers, IReadOnlyList<RefusedRecipient> Refused, Organisation? SenderOrganisation);

/// <summary>
/// Stores a message once, encrypted (age v1, one payload) to every reader: each recipient and the sender.
/// Readers with an active account get a stanza to their own key; others get one to a fresh link key whose private
/// half is wrapped under a key derived from the notification link's token and the server-held <see cref="LinkKeySecret"/>
/// (docs/rules.md property 5). Listing metadata
/// is encrypted per reader. New recipients need a valid mobile number; without one they are refused, never sent in clear.
/// </summary>
public sealed class VaultWriter(
    IDbContextFactory<VaultDbContext> dbFactory,
    IBlobStore blobs,
    PhoneNumberRules phones,
    IOptions<BlobStorageOptions> storage,
    IOptions<SecureDeliveryOptions> delivery,
    LinkKeySecret linkSecret,
    TimeProvider time,
    ILogger<VaultWriter> logger)
{
    /// <param name="messageId">Deterministic id: storing the same id again does nothing (crash recovery).</param>
    /// <param name="writeMime">Writes the original MIME message (the plaintext) to the stream it is given.</param>
    /// <param name="beforeCommit">Adds rows (notifications, bounces) to the same transaction as the message.</param>
    public async Task<StoreResult> StoreAsync(
        Guid messageId,
        string senderAddress,
        IReadOnlyList<RecipientRequest> recipients,
        MessageMetadata metadata,
        Func<Stream, CancellationToken, Task> writeMime,
        Func<VaultDbContext, StoreResult, CancellationToken, Task>? beforeCommit,
        CancellationToken cancellationToken,
        Guid? inReplyTo = null)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(writeMime);
        var sender = Normalise(senderAddress);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.Messages.AnyAsync(m => m.Id == messageId, cancellationToken))
        {
            return new StoreResult(messageId, true, [], [], null);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var addresses = recipients.Select(r => Normalise(r.Address)).Append(sender).Distinct().ToList();
        var accounts = await db.Accounts.Where(a => addresses.Contains(a.Email)).ToDictionaryAsync(a => a.Email, cancellationToken);
        var senderDomain = sender[(sender.LastIndexOf('@') + 1)..];
        var organisation = await db.Organisations.Where(o => o.Domains.Any(d => d.Domain == senderDomain)).FirstOrDefaultAsync(cancellationToken);
        var region = organisation?.Region ?? (accounts.TryGetValue(sender, out var senderAccount) ? senderAccount.Region : storage.Value.DefaultRegion);

        var readers = new List<(string Address, Account Account, NotificationLink Link, string Token, AgeRecipient Key, bool IsSender)>();
        var refused = new List<RefusedRecipient>();
        foreach (var request in recipients.DistinctBy(r => Normalise(r.Address)))
        {
            var address = Normalise(request.Address);
            accounts.TryGetValue(address, out var account);
            if (account is { State: AccountState.Active })
            {
                readers.Add(SignInReader(address, account, messageId, now, isSender: false));
                continue;
            }
            var phone = phones.Check(request.Phone ?? account?.Phone);
            if (!phone.IsValid && request.MailboxProvesIdentity && account is not null && request.Phone is null && account.Phone is null)
            {
                readers.Add(PendingReader(address, account, LinkPurpose.PendingSender, null, messageId, now, isSender: false));
                continue;
            }
            if (!phone.IsValid)
            {
                refused.Add(new RefusedRecipient(address, request.Phone is null && account?.Phone is null ? "no mobile number was given" : $"the mobile number is not usable: {phone.Problem}"));
                continue;
            }
            if (account is null)
            {
                account = NewPendingAccount(address, region, now);
                accounts[address] = account;
                db.Accounts.Add(account);
            }
            account.Phone = phone.E164; // a pending account takes the number its latest sender gave
            readers.Add(PendingReader(address, account, LinkPurpose.PendingRecipient, phone.E164, messageId, now, isSender: false));
        }
        if (readers.Count == 0)
        {
            return new StoreResult(messageId, false, [], refused, organisation);
        }
        if (!accounts.TryGetValue(sender, out var senderAccountRow))
        {
            senderAccountRow = NewPendingAccount(sender, region, now);
            senderAccountRow.OrganisationId = organisation?.Id;
            accounts[sender] = senderAccountRow;
            db.Accounts.Add(senderAccountRow);
        }
        readers.Add(senderAccountRow.State == AccountState.Active
            ? SignInReader(sender, senderAccountRow, messageId, now, isSender: true)
            : PendingReader(sender, senderAccountRow, LinkPurpose.PendingSender, senderAccountRow.Phone, messageId, now, isSender: true));

        using var fileKey = AgeFileKey.Generate();
        var blobName = messageId.ToString("N");
        long payloadSize = 0;
        await blobs.WriteAsync(region, blobName, async (output, ct) =>
        {
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024));
            var producer = Task.Run(async () =>
            {
                await using var writer = pipe.Writer.AsStream();
                try
                {
                    await writeMime(writer, ct);
                    await pipe.Writer.CompleteAsync();
                }
                catch (Exception exception)
                {
                    await pipe.Writer.CompleteAsync(exception);
                    throw;
                }
            }, ct);
            await using var plaintext = pipe.Reader.AsStream();
            await AgePayload.EncryptAsync(fileKey, plaintext, output, ct);
            await producer;
            payloadSize = output.Position;
        }, cancellationToken);

        db.Messages.Add(new VaultMessage
        {
            Id = messageId,
            Region = region,
            BlobName = blobName,
            PayloadSize = payloadSize,
            SenderAccountId = senderAccountRow.Id,
            InReplyToId = inReplyTo,
            CreatedAt = now,
        });
        var metadataJson = JsonSerializer.SerializeToUtf8Bytes(metadata, VaultJson.Default.MessageMetadata);
        foreach (var reader in readers)
        {
            db.Links.Add(reader.Link);
            db.MailboxItems.Add(new MailboxItem
            {
                AccountId = reader.Account.Id,
                MessageId = messageId,
                Folder = reader.IsSender ? Folder.Sent : Folder.Inbox,
                IsRead = reader.IsSender,
                Stanza = X25519Stanza.Wrap(fileKey, reader.Key).ToString(),
                EncryptedMetadata = await EncryptToAsync(metadataJson, reader.Key, cancellationToken),
                PendingLinkId = reader.Link.PublicKey is null ? null : reader.Link.Id,
                CreatedAt = now,
            });
        }
        await CountSentAsync(db, senderAccountRow.Id, now, cancellationToken);
        var result = new StoreResult(messageId, false,
            readers.Select(r => new StoredReader(r.Address, r.Account, r.Link, r.Token, r.IsSender)).ToList(), refused, organisation);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (beforeCommit is not null)
        {
            await beforeCommit(db, result, cancellationToken);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Stored message {MessageId} in region {Region}: {Readers} readers, {Refused} refused", messageId, region, readers.Count, refused.Count);
        return result;
    }

    /// <summary>Lower-cased, trimmed address (the account key).</summary>
    public static string Normalise(string address) => address.Trim().ToLowerInvariant();

    private static Account NewPendingAccount(string address, string region, DateTime now) =>
        new() { Email = address, State = AccountState.Pending, Region = region, CreatedAt = now };

    private (string, Account, NotificationLink, string, AgeRecipient, bool) SignInReader(string address, Account account, Guid messageId, DateTime now, bool isSender)
    {
        var token = LinkTokens.NewToken();
        var link = new NotificationLink
        {
            TokenHash = LinkTokens.Hash(token)!,
            Purpose = LinkPurpose.SignIn,
            AccountId = account.Id,
            MessageId = messageId,
            CreatedAt = now,
            ExpiresAt = now + delivery.Value.LinkLifetime,
        };
        return (address, account, link, token, AgeRecipient.Parse(account.PublicKey!), isSender);
    }

    private (string, Account, NotificationLink, string, AgeRecipient, bool) PendingReader(string address, Account account, LinkPurpose purpose, string? phone, Guid messageId, DateTime now, bool isSender)
    {
        var token = LinkTokens.NewToken();
        using var linkKey = AgeIdentity.Generate();
        var link = new NotificationLink
        {
            TokenHash = LinkTokens.Hash(token)!,
            Purpose = purpose,
            AccountId = account.Id,
            MessageId = messageId,
            PublicKey = linkKey.Recipient.ToString(),
            Phone = phone,
            CreatedAt = now,
            ExpiresAt = now + delivery.Value.LinkLifetime,
        };
        link.WrappedKey = PrivateKeyWrap.WrapWithSecret(linkKey, LinkTokens.Secret(token, linkSecret), KeyWrapPurpose.LinkSecret, link.Id.ToString("N"));
        return (address, account, link, token, linkKey.Recipient, isSender);
    }

    /// <summary>Encrypts a small blob (metadata) to one key as a whole age file.</summary>
    public static async Task<byte[]> EncryptToAsync(byte[] plaintext, AgeRecipient recipient, CancellationToken cancellationToken)
    {
        using var input = new MemoryStream(plaintext, writable: false);
        using var output = new MemoryStream();
        await AgeFile.EncryptAsync(input, output, [recipient], cancellationToken);
        return output.ToArray();
    }

    private static async Task CountSentAsync(VaultDbContext db, Guid accountId, DateTime now, CancellationToken cancellationToken)
    {
        var month = now.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var counter = await db.SenderMonthlyCounts.FindAsync([accountId, month], cancellationToken);
        if (counter is null)
        {
            db.SenderMonthlyCounts.Add(new SenderMonthlyCount { AccountId = accountId, Month = month, Count = 1 });
        }
        else
        {
            counter.Count++;
        }
    }

    /// <summary>A stable message id for a spool id, so that re-processing after a crash finds the stored message.</summary>
    public static Guid MessageIdFor(string sourceId) =>
        new(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("smbx-message:" + sourceId)).AsSpan(0, 16));
}

[System.Text.Json.Serialization.JsonSerializable(typeof(MessageMetadata))]
internal sealed partial class VaultJson : System.Text.Json.Serialization.JsonSerializerContext;
