using System.Runtime.InteropServices;
using SecureMailbox.Vault.Storage;
using SecureMailbox.Vault.Tests.Support;

namespace SecureMailbox.Vault.Tests.Storage;

[TestFixture]
public sealed partial class FolderBlobStoreTests
{
    [Test]
    public async Task SecureDeleteAsync_Blob_OverwritesItsBytesBeforeUnlinking()
    {
        await using var vault = await VaultHost.StartAsync();
        var store = (FolderBlobStore)vault.Get<IBlobStore>();
        var secret = "confidential-bytes-"u8.ToArray();
        await store.WriteAsync("se", "abcdef0123456789", async (s, ct) =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                await s.WriteAsync(secret, ct);
            }
        }, CancellationToken.None);
        var path = store.PathOf("se", "abcdef0123456789");
        // A second name for the same inode lets the test read the very blocks the blob used after it is unlinked.
        var witness = path + ".witness";
        Assert.That(Link(path, witness), Is.EqualTo(0), "hard link for the witness");

        await store.SecureDeleteAsync("se", "abcdef0123456789", CancellationToken.None);

        Assert.That(File.Exists(path), Is.False);
        var after = await File.ReadAllBytesAsync(witness);
        Assert.That(after, Has.Length.EqualTo(secret.Length * 10_000));
        Assert.That(after.AsSpan().IndexOf(secret), Is.EqualTo(-1), "the old content is gone from the file's blocks");
        Assert.That(after.All(b => b == 0), Is.True);
    }

    [Test]
    public async Task SecureDeleteAsync_MissingBlob_IsNotAnError()
    {
        await using var vault = await VaultHost.StartAsync();
        var store = vault.Get<IBlobStore>();

        Assert.DoesNotThrowAsync(() => store.SecureDeleteAsync("se", "0000000000000000", CancellationToken.None));
    }

    [TestCase("../../etc/passwd")]
    [TestCase("short")]
    [TestCase("abc/def0123456789")]
    [TestCase("")]
    public async Task PathOf_HostileName_IsRefused(string name)
    {
        await using var vault = await VaultHost.StartAsync();
        var store = (FolderBlobStore)vault.Get<IBlobStore>();

        Assert.Throws<ArgumentException>(() => store.PathOf("se", name));
    }

    [Test]
    public async Task PathOf_UnknownRegion_IsRefused()
    {
        await using var vault = await VaultHost.StartAsync();
        var store = (FolderBlobStore)vault.Get<IBlobStore>();

        Assert.Throws<ArgumentException>(() => store.PathOf("mars", "abcdef0123456789"));
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string newPath);
}
