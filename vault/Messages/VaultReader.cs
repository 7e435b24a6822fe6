using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Vault.Messages;

/// <summary>A notification link whose token was presented: the link row and, for pending readers, the unlocked link key.</summary>
public sealed record UnlockedLink(NotificationLink Link, AgeIdentity? Key) : IDisposable
{
    public void Dispose() => Key?.Dispose();
}

/// <summary>
/// Reads stored messages for someone who holds a key: the link key (from a token) or the account key (from a session).
/// Every read authenticates: a tampered payload or stanza throws; no unauthenticated plaintext is released.
/// </summary>
public sealed class VaultReader(IDbContextFactory<VaultDbContext> dbFactory, IBlobStore blobs, LinkKeySecret linkSecret, TimeProvider time, ILogger<VaultReader> logger)
{
    /// <summary>
    /// Finds the link of a token and unlocks its key; null for an unknown, malformed or expired token, and for a link
    /// whose key the token and this server's link secret do not open.
    /// </summary>
    public async Task<UnlockedLink?> UnlockLinkAsync(string token, CancellationToken cancellationToken)
    {
        var hash = LinkTokens.Hash(token);
        if (hash is null)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var link = await db.Links.AsNoTracking().SingleOrDefaultAsync(l => l.TokenHash == hash, cancellationToken);
        if (link is null || link.ExpiresAt <= time.GetUtcNow().UtcDateTime)
        {
            return null;
        }
        if (link.WrappedKey is null)
        {
            return new UnlockedLink(link, null);
        }
        var keyId = link.Id.ToString("N");
        try
        {
            return new UnlockedLink(link, PrivateKeyWrap.UnwrapIdentityWithSecret(link.WrappedKey, LinkTokens.Secret(token, linkSecret), KeyWrapPurpose.LinkSecret, keyId));
        }
        catch (KeyUnwrapException)
        {
            // A link made before the server-held secret: opened once more with the token alone, and re-wrapped at once
            // so that from now on a copy of the data folder does not open it either.
            AgeIdentity key;
            try
            {
                key = PrivateKeyWrap.UnwrapIdentityWithSecret(link.WrappedKey, LinkTokens.LegacySecret(token), KeyWrapPurpose.LinkSecret, keyId);
            }
            catch (KeyUnwrapException)
            {
                logger.LogError("Link {LinkId}: its key does not open with the token and this server's link secret (Vault:LinkSecret or Vault:LinkSecretFile must be the same for the gateway and the portal)", link.Id);
                return null;
            }
            var rewrapped = PrivateKeyWrap.WrapWithSecret(key, LinkTokens.Secret(token, linkSecret), KeyWrapPurpose.LinkSecret, keyId);
            await db.Links.Where(l => l.Id == link.Id).ExecuteUpdateAsync(s => s.SetProperty(l => l.WrappedKey, rewrapped), cancellationToken);
            link.WrappedKey = rewrapped;
            await db.Database.FlushDeletedAsync(cancellationToken);
            return new UnlockedLink(link, key);
        }
    }

    /// <summary>Unwraps a message's file key from a reader's stanza.</summary>
    public static AgeFileKey UnwrapFileKey(string stanza, AgeIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (!X25519Stanza.TryUnwrap(AgeStanza.Parse(stanza), identity, out var fileKey) || fileKey is null)
        {
            throw new AgeDecryptionException(AgeDecryptionFailure.NoMatchingIdentity, "The key does not open this message.");
        }
        return fileKey;
    }

    /// <summary>Opens the decrypted original MIME message as a stream (authenticated chunk by chunk).</summary>
    public Stream OpenMessage(VaultMessage message, string stanza, AgeIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var fileKey = UnwrapFileKey(stanza, identity);
        var payload = blobs.OpenRead(message.Region, message.BlobName);
        return AgePayload.OpenDecryptStream(fileKey, payload);
    }

    /// <summary>Decrypts a mailbox item's listing metadata.</summary>
    public static async Task<MessageMetadata> ReadMetadataAsync(byte[] encrypted, AgeIdentity identity, CancellationToken cancellationToken)
    {
        using var input = new MemoryStream(encrypted, writable: false);
        using var output = new MemoryStream();
        await AgeFile.DecryptAsync(input, output, identity, cancellationToken);
        return JsonSerializer.Deserialize(output.ToArray(), VaultJson.Default.MessageMetadata) ?? new MessageMetadata();
    }

    /// <summary>
    /// Writes a standard age file for one reader (header with that reader's stanza, then the stored payload), which the
    /// stock <c>age</c> tool decrypts with the reader's identity (docs/rules.md property 3: export, no lock-in).
    /// </summary>
    public async Task ExportAgeFileAsync(VaultMessage message, string stanza, AgeIdentity identity, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        using var fileKey = UnwrapFileKey(stanza, identity);
        var header = AgeHeader.Write([AgeStanza.Parse(stanza)], fileKey);
        await output.WriteAsync(header, cancellationToken);
        await using var payload = blobs.OpenRead(message.Region, message.BlobName);
        await payload.CopyToAsync(output, cancellationToken);
    }
}
