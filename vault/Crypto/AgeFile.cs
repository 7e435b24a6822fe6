namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// Whole age v1 files (header followed by payload), readable by the <c>age</c> command-line tool.
/// The vault itself mostly stores <see cref="AgeStanza"/>s and the <see cref="AgePayload"/> separately.
/// </summary>
public static class AgeFile
{
    /// <summary>Encrypts <paramref name="plaintext"/> to every recipient, streaming.</summary>
    public static async Task EncryptAsync(Stream plaintext, Stream output, IEnumerable<AgeRecipient> recipients, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(recipients);

        using var fileKey = AgeFileKey.Generate();
        var stanzas = recipients.Select(r => X25519Stanza.Wrap(fileKey, r)).ToList();
        if (stanzas.Count == 0)
        {
            throw new ArgumentException("At least one recipient is needed.", nameof(recipients));
        }

        await output.WriteAsync(AgeHeader.Write(stanzas, fileKey), cancellationToken);
        await AgePayload.EncryptAsync(fileKey, plaintext, output, cancellationToken);
    }

    /// <summary>Decrypts <paramref name="input"/> into <paramref name="output"/>; see <see cref="OpenDecryptStream"/> for errors.</summary>
    public static async Task DecryptAsync(Stream input, Stream output, AgeIdentity identity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var plaintext = await OpenDecryptStreamAsync(input, identity, leaveOpen: true, cancellationToken);
        await plaintext.CopyToAsync(output, AgePayload.ChunkSize, cancellationToken);
    }

    /// <summary>
    /// Reads and checks the header (throwing <see cref="AgeFormatException"/> or <see cref="AgeDecryptionException"/>)
    /// and returns a stream of the authenticated plaintext, as <see cref="AgePayload.OpenDecryptStream"/>.
    /// </summary>
    public static Stream OpenDecryptStream(Stream input, AgeIdentity identity, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(identity);
        try
        {
            var header = AgeHeader.Parse(input);
            using var fileKey = header.UnwrapFileKey(identity);
            return AgePayload.OpenDecryptStream(fileKey, input, leaveOpen);
        }
        catch (AgeException) when (!leaveOpen)
        {
            input.Dispose();
            throw;
        }
    }

    /// <summary>Asynchronous <see cref="OpenDecryptStream"/>.</summary>
    public static async Task<Stream> OpenDecryptStreamAsync(Stream input, AgeIdentity identity, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(identity);
        try
        {
            var header = await AgeHeader.ParseAsync(input, cancellationToken);
            using var fileKey = header.UnwrapFileKey(identity);
            return AgePayload.OpenDecryptStream(fileKey, input, leaveOpen);
        }
        catch (AgeException) when (!leaveOpen)
        {
            await input.DisposeAsync();
            throw;
        }
    }
}
