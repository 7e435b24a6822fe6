using System.Diagnostics;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using SecureMailbox.Gateway.Secure;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>
/// The add-in's sealed header: an age file, base64, encrypted to the
/// gateway's own key; checked with the stock <c>age</c> tool, end to end through the real gateway.
/// </summary>
[TestFixture]
public sealed class AddinSealedHeaderTests : GatewayFixture
{
    private string KeyFile => Path.Combine(Data.Path, "addin-header.key");

    [Test]
    public void KeyFile_CreatedAtFirstStart_IsMode600AndPublishesItsPublicKey()
    {
        Assert.That(File.Exists(KeyFile), Is.True);
        if (!OperatingSystem.IsWindows())
        {
            Assert.That(File.GetUnixFileMode(KeyFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }
        var key = Gateway.Services.GetRequiredService<AddinHeaderKey>();
        Assert.That(File.ReadAllText(KeyFile + ".pub").Trim(), Is.EqualTo(key.Recipient.ToString()));
        Assert.That(File.ReadAllText(KeyFile), Does.Contain("AGE-SECRET-KEY-1"));
    }

    [Test]
    public async Task KeyFile_IsAnAgeIdentity_TheStockAgeToolDecryptsWithIt()
    {
        var plaintext = "anna@patient.example=+46701234567";
        var sealedFile = await RunAsync("age", ["-e", "-r", PublicKey()], Encoding.ASCII.GetBytes(plaintext));
        var opened = await RunAsync("age", ["-d", "-i", KeyFile], sealedFile);
        Assert.That(Encoding.ASCII.GetString(opened), Is.EqualTo(plaintext));
    }

    [Test]
    public async Task SealedHeader_FromTheStockAgeTool_GivesTheRecipientItsNumber()
    {
        var message = SecureMessage("sealed@patient.example");
        message.Headers.Add(AddinPhoneHeaders.SealedHeader, await SealAsync("sealed@patient.example=+46701234567, other@patient.example=+46709999999", PublicKey()));

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(2, TimeSpan.FromSeconds(30));
        var notification = mail.Single(m => m.To.SequenceEqual(["sealed@patient.example"]));
        var text = Encoding.UTF8.GetString(notification.Data);
        Assert.That(text, Does.Not.Contain("X-SecureMailbox-Sealed").And.Not.Contain("+46701234567"));
        Assert.That(mail.Any(m => m.From.Length == 0), Is.False, "no bounce: the number was found");
        Assert.That(mail.Any(m => m.To.Contains("other@patient.example")), Is.False, "numbers for non-recipients are ignored");
    }

    [Test]
    public async Task SealedHeader_WrittenByTheAddinsOwnCode_IsOpenedByTheGatewayEndToEnd()
    {
        // The add-in's sealing module (addin/web/seal.js with its vendored age library), run by Node.
        var seal = Path.Combine(RepositoryRoot(), "addin", "web", "seal.js");
        var script = $"const {{ sealPhoneList }} = await import({System.Text.Json.JsonSerializer.Serialize(new Uri(seal).AbsoluteUri)});"
            + "process.stdout.write(await sealPhoneList(process.argv[1], process.argv[2]));";
        var list = "addin@patient.example=+46701234567, bcc.hidden@patient.example=+358401234567";
        var value = Encoding.ASCII.GetString(await RunAsync("node", ["--input-type=module", "-e", script, list, PublicKey()], []));
        Assert.That(value, Does.Not.Contain("patient").And.Not.Contain("4670"));
        var message = SecureMessage("addin@patient.example");
        message.Bcc.Add(new MailboxAddress("", "bcc.hidden@patient.example"));
        message.Headers.Add(AddinPhoneHeaders.SealedHeader, value);

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(3, TimeSpan.FromSeconds(30));
        Assert.That(mail.Count(m => m.To.SequenceEqual(["addin@patient.example"])), Is.EqualTo(1));
        Assert.That(mail.Count(m => m.To.SequenceEqual(["bcc.hidden@patient.example"])), Is.EqualTo(1));
        Assert.That(mail.Any(m => m.From.Length == 0), Is.False, "both numbers were read: no bounce");
        Assert.That(mail.All(m => !Encoding.UTF8.GetString(m.Data).Contains("bcc.hidden", StringComparison.Ordinal) || m.To.SequenceEqual(["bcc.hidden@patient.example"])), Is.True,
            "the Bcc recipient appears only in their own notification");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SecureMailbox.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Repository root (SecureMailbox.sln) not found.");
    }

    [Test]
    public async Task SealedHeader_FoldedAtTheSpacesBetweenGroups_StillOpens()
    {
        var phones = Gateway.Services.GetRequiredService<AddinPhoneHeaders>();
        var sealedValue = await SealAsync("folded@patient.example=+46701234567", PublicKey());
        var grouped = string.Join("\r\n ", Enumerable.Range(0, (sealedValue.Length + 75) / 76).Select(i => sealedValue.Substring(i * 76, Math.Min(76, sealedValue.Length - (i * 76)))));
        var message = SecureMessage("folded@patient.example");
        message.Headers.Add(AddinPhoneHeaders.SealedHeader, grouped);

        var read = phones.Read(message.Headers);

        Assert.That(read, Is.EquivalentTo(new Dictionary<string, string> { ["folded@patient.example"] = "+46701234567" }));
    }

    [Test]
    public async Task SealedHeader_ForAnotherKey_BouncesLikeAMissingNumber()
    {
        var otherKey = Path.Combine(Data.Path, "other.key");
        await RunAsync("age-keygen", ["-o", otherKey], []);
        var otherRecipient = Encoding.ASCII.GetString(await RunAsync("age-keygen", ["-y", otherKey], [])).Trim();
        var message = SecureMessage("wrongkey@patient.example");
        message.Headers.Add(AddinPhoneHeaders.SealedHeader, await SealAsync("wrongkey@patient.example=+46701234567", otherRecipient));

        await SendAsync(message);

        var mail = await NextHop.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.That(NextHop.Messages.Any(m => m.To.Contains("wrongkey@patient.example")), Is.False, "nothing, in clear or otherwise");
        var bounce = mail.Single(m => m.From.Length == 0);
        Assert.That(Encoding.UTF8.GetString(bounce.Data), Does.Contain("wrongkey@patient.example").And.Contain("mobile number"));
    }

    [TestCase("not base64 at all!")]
    [TestCase("YWdlLWVuY3J5cHRpb24ub3JnL3YxCg==")]
    [TestCase("")]
    public void Open_GarbageOrTruncated_GivesNothing(string value)
    {
        var phones = Gateway.Services.GetRequiredService<AddinPhoneHeaders>();
        Assert.That(phones.Open(value), Is.Null);
    }

    [Test]
    public async Task Open_PayloadTamperedOrCutShort_GivesNothing()
    {
        var phones = Gateway.Services.GetRequiredService<AddinPhoneHeaders>();
        var file = Convert.FromBase64String(await SealAsync("anna@patient.example=+46701234567", PublicKey()));
        var tampered = (byte[])file.Clone();
        tampered[^3] ^= 0x01;

        Assert.That(phones.Open(Convert.ToBase64String(file)), Is.EqualTo("anna@patient.example=+46701234567"), "the untouched value opens");
        Assert.That(phones.Open(Convert.ToBase64String(tampered)), Is.Null);
        Assert.That(phones.Open(Convert.ToBase64String(file[..^5])), Is.Null);
    }

    [Test]
    public void Read_PlainHeaderForScripts_StillWorks()
    {
        var phones = Gateway.Services.GetRequiredService<AddinPhoneHeaders>();
        var headers = new HeaderList { { AddinPhoneHeaders.PhoneHeader, "Anna@Patient.Example=+46701234567, bo@patient.example=+46707654321" } };
        Assert.That(phones.Read(headers), Is.EquivalentTo(new Dictionary<string, string>
        {
            ["anna@patient.example"] = "+46701234567",
            ["bo@patient.example"] = "+46707654321",
        }));
    }

    private string PublicKey() => File.ReadAllText(KeyFile + ".pub").Trim();

    private static async Task<string> SealAsync(string list, string recipient) =>
        Convert.ToBase64String(await RunAsync("age", ["-e", "-r", recipient], Encoding.ASCII.GetBytes(list)));

    private static MimeMessage SecureMessage(string to)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Sven", "sven@org.example"));
        message.To.Add(new MailboxAddress("", to));
        message.Subject = "[secure] Sealed header";
        message.Headers.Add("X-SecureMailbox", "secure");
        message.Body = new TextPart("plain") { Text = "Hej\r\n" };
        return message;
    }

    private async Task SendAsync(MimeMessage message)
    {
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync("127.0.0.1", Gateway.Endpoint.Port, SecureSocketOptions.StartTls);
        await client.SendAsync(message);
        await client.DisconnectAsync(true);
    }

    private static async Task<byte[]> RunAsync(string tool, string[] arguments, byte[] input)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"The stock '{tool}' tool is needed (Debian package 'age').", e);
        }
        using (process)
        {
            await process.StandardInput.BaseStream.WriteAsync(input);
            process.StandardInput.Close();
            using var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            await copy;
            Assert.That(process.ExitCode, Is.Zero, $"{tool}: {await error}");
            return output.ToArray();
        }
    }
}
