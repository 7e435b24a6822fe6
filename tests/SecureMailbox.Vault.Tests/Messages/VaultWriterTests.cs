using System.Text;
using Microsoft.EntityFrameworkCore;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Crypto;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;
using SecureMailbox.Vault.Storage;
using SecureMailbox.Vault.Tests.Support;

namespace SecureMailbox.Vault.Tests.Messages;

[TestFixture]
public sealed class VaultWriterTests
{
    private const string Mime = "From: sven@org.example\r\nTo: anna@patient.example\r\nSubject: Svar\r\n\r\nHemligt innehåll\r\n";

    private static Task<StoreResult> StoreAsync(VaultHost vault, Guid id, string sender = "sven@org.example", string? phone = "+46701234567", string recipient = "anna@patient.example") =>
        vault.Get<VaultWriter>().StoreAsync(
            id,
            sender,
            [new RecipientRequest(recipient, phone)],
            new MessageMetadata { Subject = "Svar" },
            (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(Mime), ct).AsTask(),
            null,
            CancellationToken.None);

    [Test]
    public async Task StoreAsync_SameIdTwice_StoresOnce()
    {
        await using var vault = await VaultHost.StartAsync();
        var id = Guid.NewGuid();

        var first = await StoreAsync(vault, id);
        var second = await StoreAsync(vault, id);

        Assert.That(first.AlreadyStored, Is.False);
        Assert.That(second.AlreadyStored, Is.True);
        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await db.Messages.CountAsync(), Is.EqualTo(1));
        Assert.That(await db.MailboxItems.CountAsync(), Is.EqualTo(2), "recipient and sender");
    }

    [Test]
    public async Task StoreAsync_SenderOfAGermanOrganisation_StoresInRegionDe()
    {
        await using var vault = await VaultHost.StartAsync();

        var result = await StoreAsync(vault, Guid.NewGuid(), sender: "amt@stadt.example");

        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var message = await db.Messages.SingleAsync(m => m.Id == result.MessageId);
        Assert.That(message.Region, Is.EqualTo("de"));
        var path = ((FolderBlobStore)vault.Get<IBlobStore>()).PathOf("de", message.BlobName);
        Assert.That(File.Exists(path), Is.True);
        Assert.That(path, Does.Contain(Path.Combine("vault", "de")));
    }

    [Test]
    public async Task OpenMessage_TamperedPayload_ThrowsAndReleasesNoPlaintext()
    {
        await using var vault = await VaultHost.StartAsync();
        var result = await StoreAsync(vault, Guid.NewGuid());
        var reader = vault.Get<VaultReader>();
        var recipient = result.Readers.Single(r => !r.IsSender);
        using var link = (await reader.UnlockLinkAsync(recipient.Token, CancellationToken.None))!;
        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var message = await db.Messages.SingleAsync();
        var item = await db.MailboxItems.SingleAsync(i => i.AccountId == recipient.Account.Id);
        var path = ((FolderBlobStore)vault.Get<IBlobStore>()).PathOf(message.Region, message.BlobName);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^5] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);

        await using var plaintext = reader.OpenMessage(message, item.Stanza, link.Key!);
        using var sink = new MemoryStream();

        Assert.ThrowsAsync<AgeDecryptionException>(() => plaintext.CopyToAsync(sink));
        Assert.That(Encoding.UTF8.GetString(sink.ToArray()), Does.Not.Contain("Hemligt"));
    }

    [Test]
    public async Task OpenMessage_TamperedStanza_IsRefused()
    {
        await using var vault = await VaultHost.StartAsync();
        var result = await StoreAsync(vault, Guid.NewGuid());
        var reader = vault.Get<VaultReader>();
        var recipient = result.Readers.Single(r => !r.IsSender);
        using var link = (await reader.UnlockLinkAsync(recipient.Token, CancellationToken.None))!;
        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        var message = await db.Messages.SingleAsync();
        var item = await db.MailboxItems.SingleAsync(i => i.AccountId == recipient.Account.Id);
        var lines = item.Stanza.Split('\n');
        var body = lines[1].ToCharArray();
        body[3] = body[3] == 'A' ? 'B' : 'A';
        lines[1] = new string(body);

        Assert.Throws(Is.InstanceOf<AgeException>(), () => reader.OpenMessage(message, string.Join('\n', lines), link.Key!).Dispose());
    }

    [Test]
    public async Task UnlockLinkAsync_ForgedExpiredOrMalformedToken_ReturnsNull()
    {
        await using var vault = await VaultHost.StartAsync();
        var result = await StoreAsync(vault, Guid.NewGuid());
        var token = result.Readers.Single(r => !r.IsSender).Token;
        var reader = vault.Get<VaultReader>();

        Assert.That(await reader.UnlockLinkAsync(LinkTokens.NewToken(), CancellationToken.None), Is.Null, "forged");
        Assert.That(await reader.UnlockLinkAsync(token + "A", CancellationToken.None), Is.Null, "too long");
        Assert.That(await reader.UnlockLinkAsync("../../' OR 1=1 --", CancellationToken.None), Is.Null, "hostile");
        Assert.That(await reader.UnlockLinkAsync("", CancellationToken.None), Is.Null, "empty");
        using (var valid = await reader.UnlockLinkAsync(token, CancellationToken.None))
        {
            Assert.That(valid, Is.Not.Null);
        }
        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        await db.Links.ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, DateTime.UtcNow.AddMinutes(-1)));
        Assert.That(await reader.UnlockLinkAsync(token, CancellationToken.None), Is.Null, "expired");
    }

    [Test]
    public async Task StoreAsync_NewRecipientWithoutPhone_IsRefusedAndNothingIsStored()
    {
        await using var vault = await VaultHost.StartAsync();

        var result = await StoreAsync(vault, Guid.NewGuid(), phone: null);

        Assert.That(result.Readers, Is.Empty);
        Assert.That(result.Refused.Single().Address, Is.EqualTo("anna@patient.example"));
        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await db.Messages.AnyAsync(), Is.False);
        Assert.That(Directory.Exists(Path.Combine(vault.DataDirectory, "vault", "se")) && Directory.EnumerateFiles(Path.Combine(vault.DataDirectory, "vault", "se"), "*", SearchOption.AllDirectories).Any(), Is.False);
    }

    [Test]
    public async Task StoreAsync_RecipientAddressInOtherCase_FindsTheSameAccount()
    {
        await using var vault = await VaultHost.StartAsync();

        await StoreAsync(vault, Guid.NewGuid(), recipient: "Anna@Patient.Example");
        await StoreAsync(vault, Guid.NewGuid(), recipient: "anna@patient.example");

        await using var db = await vault.Get<IDbContextFactory<VaultDbContext>>().CreateDbContextAsync();
        Assert.That(await db.Accounts.CountAsync(a => a.Email == "anna@patient.example"), Is.EqualTo(1));
        Assert.That(await db.Accounts.Where(a => a.Email == "anna@patient.example").Select(a => a.State).SingleAsync(), Is.EqualTo(AccountState.Pending));
    }
}
