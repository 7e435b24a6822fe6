using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using SecureMailbox.Gateway.Secure;
using SecureMailbox.Gateway.Tests.Support;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Crypto;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The gateway's add-in header key on its own: creation, configured files, rotation.</summary>
[TestFixture]
public sealed class AddinHeaderKeyTests
{
    private static AddinHeaderKey Key(string dataDirectory, AddinHeaderOptions? options = null) =>
        new(Options.Create(options ?? new AddinHeaderOptions()), Options.Create(new VaultOptions { DataDirectory = dataDirectory }), NullLogger<AddinHeaderKey>.Instance);

    private static async Task<string> SealAsync(string list, AgeRecipient recipient)
    {
        using var output = new MemoryStream();
        await AgeFile.EncryptAsync(new MemoryStream(Encoding.ASCII.GetBytes(list)), output, [recipient]);
        return Convert.ToBase64String(output.ToArray());
    }

    [Test]
    public void Constructor_SecondStart_KeepsTheSameKey()
    {
        using var data = new TempDirectory();
        string first;
        using (var key = Key(data.Path))
        {
            first = key.Recipient.ToString();
        }

        using var again = Key(data.Path);

        Assert.That(again.Recipient.ToString(), Is.EqualTo(first));
    }

    [Test]
    public void Constructor_ConfiguredFileMissing_FailsNamingTheSetting()
    {
        using var data = new TempDirectory();

        var error = Assert.Throws<InvalidOperationException>(() => Key(data.Path, new AddinHeaderOptions { IdentityFile = Path.Combine(data.Path, "nope.key") }));

        Assert.That(error!.Message, Does.Contain("AddinHeader:IdentityFile"));
        Assert.That(File.Exists(Path.Combine(data.Path, "nope.key")), Is.False, "a configured key is never invented");
    }

    [Test]
    public void Constructor_FileWithoutAnIdentity_FailsNamingTheSetting()
    {
        using var data = new TempDirectory();
        var file = Path.Combine(data.Path, "broken.key");
        File.WriteAllText(file, "# only a comment\nage1notasecret\n");

        var error = Assert.Throws<InvalidOperationException>(() => Key(data.Path, new AddinHeaderOptions { IdentityFile = file }));

        Assert.That(error!.Message, Does.Contain("AddinHeader:IdentityFile"));
    }

    [Test]
    public async Task Read_AfterRotation_OpensValuesSealedToThePreviousKey()
    {
        using var data = new TempDirectory();
        using var oldIdentity = AgeIdentity.Generate();
        using var newIdentity = AgeIdentity.Generate();
        var oldFile = Path.Combine(data.Path, "old.key");
        var newFile = Path.Combine(data.Path, "new.key");
        File.WriteAllText(oldFile, oldIdentity + "\n");
        File.WriteAllText(newFile, $"# public key: {newIdentity.Recipient}\n{newIdentity}\n");
        using var key = Key(data.Path, new AddinHeaderOptions { IdentityFile = newFile, PreviousIdentityFiles = [oldFile] });
        var phones = new AddinPhoneHeaders(key, NullLogger<AddinPhoneHeaders>.Instance);
        var headers = new HeaderList
        {
            { AddinPhoneHeaders.SealedHeader, await SealAsync("old@patient.example=+46701234567", oldIdentity.Recipient) },
            { AddinPhoneHeaders.SealedHeader, await SealAsync("new@patient.example=+46707654321", newIdentity.Recipient) },
        };

        var read = phones.Read(headers);

        Assert.That(key.Recipient, Is.EqualTo(newIdentity.Recipient), "the new key is the one published");
        Assert.That(File.ReadAllText(newFile + ".pub").Trim(), Is.EqualTo(newIdentity.Recipient.ToString()));
        Assert.That(read, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["old@patient.example"] = "+46701234567",
            ["new@patient.example"] = "+46707654321",
        }));
    }

    [Test]
    public async Task Read_SealedAndPlainForTheSameAddress_TheSealedNumberWins()
    {
        using var data = new TempDirectory();
        using var key = Key(data.Path);
        var phones = new AddinPhoneHeaders(key, NullLogger<AddinPhoneHeaders>.Instance);
        var headers = new HeaderList
        {
            { AddinPhoneHeaders.SealedHeader, await SealAsync("anna@patient.example=+46701234567", key.Recipient) },
            { AddinPhoneHeaders.PhoneHeader, "anna@patient.example=+46709999999" },
        };

        Assert.That(phones.Read(headers)["anna@patient.example"], Is.EqualTo("+46701234567"));
    }
}
