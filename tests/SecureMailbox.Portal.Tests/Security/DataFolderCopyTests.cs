using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Crypto.KeyWrapping;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Tests.Security;

/// <summary>
/// Someone holding a copy of the data folder and every notification mail, but not the server-held link secret,
/// opens no waiting message (docs/rules.md property 5); with the secret the normal path still works.
/// </summary>
[TestFixture]
public sealed class DataFolderCopyTests
{
    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A portal (not started yet) on a copy of <paramref name="data"/>, with the given link secret (null: the key file).</summary>
    private static PortalFactory PortalOnCopyOf(string data, string? linkSecret)
    {
        var portal = new PortalFactory(new Dictionary<string, string?> { ["Vault:LinkSecret"] = linkSecret });
        Copy(data, portal.Data.Path);
        return portal;
    }

    private static void Copy(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var target = File.Create(file.Replace(from, to, StringComparison.Ordinal));
            source.CopyTo(target);
        }
    }

    [Test]
    public async Task CopyOfTheDataFolder_WithEveryLinkButNotTheLinkSecret_OpensNoWaitingMessage()
    {
        var secret = NewSecret();
        using var original = new TempDirectory();
        List<string> tokens;
        using (var portal = new PortalFactory(new Dictionary<string, string?> { ["Vault:LinkSecret"] = secret }))
        {
            var (_, result) = await portal.StoreMessageAsync("Provsvar");
            tokens = [.. result.Readers.Select(r => r.Token)];
            Assert.That(result.Readers.Count(r => r.Link.WrappedKey is not null), Is.Not.Zero, "a reader waits on a link");
            Copy(portal.Data.Path, original.Path);
        }
        Assert.That(Directory.GetFiles(original.Path, "*.link-key", SearchOption.AllDirectories), Is.Empty);

        using (var attacker = PortalOnCopyOf(original.Path, NewSecret()))
        {
            var reader = attacker.Services.GetRequiredService<VaultReader>();
            foreach (var token in tokens)
            {
                using var unlocked = await reader.UnlockLinkAsync(token, CancellationToken.None);
                Assert.That(unlocked?.Key, Is.Null, "no link key without the server's secret");
            }
            using var client = attacker.Browser();
            var page = await client.PageAsync("/l/" + tokens[0]);
            using var post = await client.PostFormAsync("/l", page.Html, ("token", tokens[0]));
            Assert.That(post.StatusCode, Is.Not.EqualTo(HttpStatusCode.Redirect));
            Assert.That(attacker.Logs.Lines.Any(l => l.Contains("does not open with the token and this server's link secret", StringComparison.Ordinal)), Is.True);
        }

        using var operatorPortal = PortalOnCopyOf(original.Path, secret);
        using var recipient = operatorPortal.Browser();
        var messageUrl = await RecipientJourney.CreateAccountAsync(operatorPortal, recipient, tokens[0]);
        var message = await recipient.PageAsync(messageUrl);
        Assert.That(BrowserSteps.Text(message.Html), Does.Contain("Provsvar"), "with the secret (restored from its own backup) the link works");
    }

    [Test]
    public async Task LinkFromBeforeTheLinkSecret_OpensOnceWithTheTokenAlone_AndIsWrappedWithTheSecretThen()
    {
        using var portal = new PortalFactory();
        var (token, result) = await portal.StoreMessageAsync("Provsvar");
        var linkId = result.Readers.Single(r => r.Token == token).Link.Id;
        var reader = portal.Services.GetRequiredService<VaultReader>();
        byte[] privateKey;
        using (var unlocked = await reader.UnlockLinkAsync(token, CancellationToken.None))
        {
            privateKey = unlocked!.Key!.ExportPrivateKey();
        }
        // The form links had before: wrapped under a key from the token alone.
        var legacy = HKDF.DeriveKey(HashAlgorithmName.SHA256, Base64UrlDecode(token), 32, salt: [], info: Encoding.ASCII.GetBytes("smbx-link-key-v1"));
        var legacyWrapped = PrivateKeyWrap.WrapWithSecret(privateKey, legacy, KeyWrapPurpose.LinkSecret, linkId.ToString("N"));
        var vault = portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using (var db = await vault.CreateDbContextAsync())
        {
            await db.Links.Where(l => l.Id == linkId).ExecuteUpdateAsync(s => s.SetProperty(l => l.WrappedKey, legacyWrapped));
        }

        using (var unlocked = await reader.UnlockLinkAsync(token, CancellationToken.None))
        {
            Assert.That(unlocked?.Key?.ExportPrivateKey(), Is.EqualTo(privateKey), "an existing link keeps working");
        }

        await using (var db = await vault.CreateDbContextAsync())
        {
            var wrapped = await db.Links.Where(l => l.Id == linkId).Select(l => l.WrappedKey).SingleAsync();
            Assert.That(() => PrivateKeyWrap.UnwrapWithSecret(wrapped, legacy, KeyWrapPurpose.LinkSecret, linkId.ToString("N")),
                Throws.InstanceOf<KeyUnwrapException>(), "re-wrapped: the token alone no longer opens it");
        }
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task LinkSecret_NotConfigured_IsAKeyFileBesideTheDataFolder_OwnerOnly()
    {
        using var data = new TempDirectory();
        var keyFile = data.Path + ".link-key";
        try
        {
            using (var portal = new PortalFactory(new Dictionary<string, string?> { ["Vault:DataDirectory"] = data.Path, ["Vault:LinkSecret"] = null }))
            {
                await portal.StoreMessageAsync("Provsvar");
            }

            Assert.That(File.Exists(keyFile), Is.True);
            Assert.That(new FileInfo(keyFile).Length, Is.EqualTo(32));
            Assert.That(File.GetUnixFileMode(keyFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.That(Directory.GetFiles(data.Path, "*.link-key", SearchOption.AllDirectories), Is.Empty);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task DataFolder_FilesAndFolders_AreOwnerOnly()
    {
        using var portal = new PortalFactory();
        var (token, _) = await portal.StoreMessageAsync("Provsvar");
        using var client = portal.Browser();
        await RecipientJourney.CreateAccountAsync(portal, client, token);

        var groupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        var open = Directory.GetFileSystemEntries(portal.Data.Path, "*", SearchOption.AllDirectories)
            .Where(path => (File.GetUnixFileMode(path) & groupOrOther) != 0).Select(Path.GetFileName).ToList();
        Assert.That(Directory.GetFiles(portal.Data.Path, "*", SearchOption.AllDirectories), Has.Length.GreaterThan(3));
        Assert.That(open, Is.Empty, "files and folders readable by others");
    }

    [Test]
    public void LinkSecretFile_InsideTheDataFolder_StopsTheStartNamingTheSetting()
    {
        using var data = new TempDirectory();
        using var portal = new PortalFactory(new Dictionary<string, string?>
        {
            ["Vault:DataDirectory"] = data.Path,
            ["Vault:LinkSecret"] = null,
            ["Vault:LinkSecretFile"] = Path.Combine(data.Path, "link.key"),
        });

        var exception = Assert.Catch(() => portal.Browser());

        Assert.That(exception!.ToString(), Does.Contain("Vault:LinkSecretFile"));
    }

    private static byte[] Base64UrlDecode(string token) =>
        Convert.FromBase64String(token.Replace('-', '+').Replace('_', '/') + "=");
}
