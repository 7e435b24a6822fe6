using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using SecureMailbox.Portal.Tests.Addin;
using SecureMailbox.Portal.Tests.Support;
using Totp = SecureMailbox.Portal.Accounts.TwoFactor.Totp;

namespace SecureMailbox.Portal.Tests.EndToEnd;

/// <summary>
/// The recipient's path in Debian's Chromium (playwright-core from addin/node_modules, no browser download), against
/// the real gateway and portal, at desktop width and at 375 px; screenshots in artifacts/screenshots/. The mail's
/// HTML carries a script and an onerror handler that must never run. Then two-factor sign-in, turned on through the
/// settings pages and used to sign in again, and a backup phone added behind re-authentication.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class BrowserTests
{
    private const string HostileHtml =
        "<p>Hej, <b>dina provsvar</b> är klara.</p>" +
        "<script>console.log('XSS-script'); alert('XSS-script')</script>" +
        "<img src=\"https://tracker.example/pixel.gif\" onerror=\"console.log('XSS-onerror'); alert('XSS-onerror')\">" +
        "<img src=\"x\" onerror=\"console.log('XSS-onerror2')\">";

    private RealServices _services = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? chromium))
        {
            Assert.Fail("Chromium not found at /usr/bin/chromium: apt-get install chromium (or set CHROMIUM_PATH).");
        }
        var addin = Path.Combine(AddinEndpointsTests.RepositoryRoot(), "addin");
        if (!Directory.Exists(Path.Combine(addin, "node_modules", "playwright-core")))
        {
            var (code, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], addin, []);
            Assert.That(code, Is.Zero, "npm ci in addin/ (for playwright-core): " + output);
        }
        _services = await RealServices.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    [TestCase("desktop", 1280, 900, "anna@patient.example", "+46701234567")]
    [TestCase("phone-375", 375, 812, "bo@patient.example", "+46701234568")]
    public async Task RecipientPath_InChromium_WorksAndMailScriptsNeverRun(string name, int width, int height, string recipient, string phone)
    {
        var token = await SendFlaggedAsync(recipient, phone);
        var root = AddinEndpointsTests.RepositoryRoot();

        var (code, output) = await RunAsync("node", [Path.Combine(root, "tests", "browser", "portal-path.mjs")], root, new Dictionary<string, string>
        {
            ["BASE_URL"] = _services.BaseUrl,
            ["TOKEN"] = token,
            ["SMS_DIR"] = Path.Combine(_services.Data.Path, "sms-outbox"),
            ["PASSWORD"] = RecipientJourney.Password,
            ["WIDTH"] = width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["HEIGHT"] = height.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SHOTS"] = Path.Combine(root, "artifacts", "screenshots", "portal-" + name),
        });

        Assert.That(code, Is.Zero, output + "\n" + _services.Output);
        using var result = JsonDocument.Parse(output.Trim().Split('\n').Last());
        var json = result.RootElement;
        Assert.That(json.GetProperty("maskedPhoneShown").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("frameText").GetString(), Does.Contain("dina provsvar").And.Not.Contain("XSS"));
        Assert.That(json.GetProperty("frameSandbox").GetString(), Is.Empty, "sandbox without allow-scripts or allow-same-origin");
        Assert.That(json.GetProperty("frameScripts").GetInt32(), Is.Zero);
        Assert.That(json.GetProperty("frameHandlers").GetInt32(), Is.Zero);
        Assert.That(json.GetProperty("dialogs").GetArrayLength(), Is.Zero, "no alert() ran");
        Assert.That(json.GetProperty("xssConsole").GetArrayLength(), Is.Zero, "no script or onerror ran");
        Assert.That(json.GetProperty("external").GetArrayLength(), Is.Zero, "no request left the portal (tracker image blocked)");
        Assert.That(json.GetProperty("noHorizontalScroll").GetBoolean(), Is.True, "fits the width");
        Assert.That(json.GetProperty("firstTabStop").GetString(), Is.EqualTo("Hoppa till innehållet"));
        Assert.That(json.GetProperty("lang").GetString(), Is.EqualTo("sv"));
        Assert.That(json.GetProperty("sentListed").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("markReadPosts").GetInt32(), Is.EqualTo(1), "read.js posted 'mark read' once, from the message page");
        Assert.That(json.GetProperty("markReadHidden").GetBoolean(), Is.True, "and took the button away");
        Assert.That(json.GetProperty("unreadRows").GetInt32(), Is.Zero, "so the inbox lists it as read");
        Assert.That(File.Exists(Path.Combine(root, "artifacts", "screenshots", $"portal-{name}-4-message.png")), Is.True);
    }

    [TestCase("first-en-375", 375, 812, "dana@patient.example", "+46701234570")]
    [TestCase("first-en-1280", 1280, 900, "erik@patient.example", "+46701234571")]
    public async Task EnglishBrowserInAnotherZone_InChromium_WholePathInEnglish_TimesInItsZone(string name, int width, int height, string recipient, string phone)
    {
        var token = await SendFlaggedAsync(recipient, phone);
        var root = AddinEndpointsTests.RepositoryRoot();

        var (code, output) = await RunAsync("node", [Path.Combine(root, "tests", "browser", "first-impressions.mjs")], root, new Dictionary<string, string>
        {
            ["BASE_URL"] = _services.BaseUrl,
            ["TOKEN"] = token,
            ["SMS_DIR"] = Path.Combine(_services.Data.Path, "sms-outbox"),
            ["PASSWORD"] = RecipientJourney.Password,
            ["WIDTH"] = width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["HEIGHT"] = height.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ZONE"] = "America/New_York",
            ["SHOTS"] = Path.Combine(root, "artifacts", "screenshots", "portal-" + name),
        });

        Assert.That(code, Is.Zero, output + "\n" + _services.Output);
        using var result = JsonDocument.Parse(output.Trim().Split('\n').Last());
        var json = result.RootElement;
        Assert.That(json.GetProperty("linkLang").GetString(), Is.EqualTo("en"), "the first page already follows the browser");
        Assert.That(json.GetProperty("swedishOn").GetArrayLength(), Is.Zero, json.GetProperty("swedishOn").ToString());
        Assert.That(json.GetProperty("wideOn").GetArrayLength(), Is.Zero, "every page fits the width: " + json.GetProperty("wideOn"));
        Assert.That(json.GetProperty("sentConfirmed").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("timesInZone").GetBoolean(), Is.True, json.GetProperty("timesSample").ToString());
        if (width <= 375)
        {
            Assert.That(json.GetProperty("labelShown").GetString(), Does.Contain("Device"), "stacked rows show their labels");
        }
        Assert.That(json.GetProperty("switchedLang").GetString(), Is.EqualTo("sv"));
        Assert.That(json.GetProperty("settingsText").GetString(), Does.Contain("Tvåfaktorsinloggning är av."));
        Assert.That(json.GetProperty("outlookShowsManifest").GetBoolean(), Is.True, "the footer leads to the add-in's manifest address");
        Assert.That(json.GetProperty("deletedConfirmed").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("emptyAsks").GetBoolean(), Is.True, "emptying the trash asks first");
        Assert.That(json.GetProperty("trashFits").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("emptiedConfirmed").GetBoolean(), Is.True);
        Assert.That(File.Exists(Path.Combine(root, "artifacts", "screenshots", $"portal-{name}-7-security.png")), Is.True);
    }

    [Test]
    public async Task TwoFactorSignIn_InChromium_EnabledThroughTheSettingsThenRequiredAtSignIn_ThenBackupPhoneAdded()
    {
        const string recipient = "cecilia@patient.example";
        var token = await SendFlaggedAsync(recipient, "+46701234569");
        var root = AddinEndpointsTests.RepositoryRoot();
        // The app's codes are computed here with the portal's own TOTP code (real clock: the portal runs as a real
        // process). The portal refuses a step used before and accepts one step either side of its clock, so each code
        // takes the next unused step, waiting for the clock when that step is not yet within reach.
        var lastStep = 0L;
        string? AppCode(string line)
        {
            if (!line.StartsWith("{\"totpFor\"", StringComparison.Ordinal))
            {
                return null;
            }
            using var request = JsonDocument.Parse(line);
            var secret = OtpNet.Base32Encoding.ToBytes(request.RootElement.GetProperty("totpFor").GetString());
            while (Totp.StepAt(DateTimeOffset.UtcNow) < lastStep)
            {
                Thread.Sleep(TimeSpan.FromSeconds(1));
            }
            lastStep = Math.Max(Totp.StepAt(DateTimeOffset.UtcNow), lastStep + 1);
            return Totp.ComputeAt(secret, DateTimeOffset.FromUnixTimeSeconds(lastStep * Totp.StepSeconds));
        }

        var (code, output) = await RunAsync("node", [Path.Combine(root, "tests", "browser", "two-factor.mjs")], root, new Dictionary<string, string>
        {
            ["BASE_URL"] = _services.BaseUrl,
            ["TOKEN"] = token,
            ["EMAIL"] = recipient,
            ["SMS_DIR"] = Path.Combine(_services.Data.Path, "sms-outbox"),
            ["PASSWORD"] = RecipientJourney.Password,
            ["BACKUP_PHONE"] = "070-765 43 21",
            ["SHOTS"] = Path.Combine(root, "artifacts", "screenshots", "portal-2fa"),
        }, AppCode);

        Assert.That(code, Is.Zero, output + "\n" + _services.Output);
        using var result = JsonDocument.Parse(output.Trim().Split('\n').Last());
        var json = result.RootElement;
        Assert.That(json.GetProperty("secretGrouped").GetBoolean(), Is.True, "the secret is shown in groups of four");
        Assert.That(json.GetProperty("qrLoaded").GetBoolean(), Is.True, "the QR code image loads");
        Assert.That(json.GetProperty("backupCodes").GetInt32(), Is.EqualTo(10));
        Assert.That(json.GetProperty("backupPhoneLinked").GetBoolean(), Is.True, "the warning links to adding a backup phone");
        Assert.That(json.GetProperty("mailboxBeforeCode").GetInt32(), Is.EqualTo(302), "the password alone opens nothing");
        Assert.That(json.GetProperty("inbox").GetBoolean(), Is.True, "signed in with password and app code, the message is listed");
        Assert.That(json.GetProperty("backupPhoneShown").GetString(), Is.EqualTo("+46 70 *** ** 21"), "a backup phone added after re-authentication");
        Assert.That(json.GetProperty("phonePageFits360").GetBoolean(), Is.True, "the phone page fits 360 px");
        Assert.That(lastStep, Is.Not.Zero, "the codes came from this test");
        Assert.That(File.Exists(Path.Combine(root, "artifacts", "screenshots", "portal-2fa-4-mailbox.png")), Is.True);
    }

    private async Task<string> SendFlaggedAsync(string recipient, string phone)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Dr Sven Läkare", "sven@org.example"));
        message.To.Add(new MailboxAddress("", recipient));
        message.Subject = "Provsvar";
        message.Headers.Add("X-SecureMailbox", "secure");
        message.Headers.Add("X-SecureMailbox-Phone", $"{recipient}={phone}");
        message.Body = new BodyBuilder { TextBody = "Hej, dina provsvar är klara.", HtmlBody = HostileHtml }.ToMessageBody();
        using (var smtp = new SmtpClient())
        {
            smtp.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await smtp.ConnectAsync("127.0.0.1", _services.SmtpPort, SecureSocketOptions.StartTlsWhenAvailable);
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(true);
        }
        string? token = null;
        await _services.WaitAsync(() =>
        {
            token = _services.PickedUpFor(recipient).Select(m => _services.LinkTokenIn(m.Message)).FirstOrDefault(t => t is not null);
            return Task.FromResult(token is not null);
        }, "the notification for " + recipient);
        return token!;
    }

    /// <summary>Runs a script; <paramref name="answer"/>, when given, may answer any output line with a line on its stdin.</summary>
    private static async Task<(int Code, string Output)> RunAsync(
        string file, string[] arguments, string workingDirectory, Dictionary<string, string> environment, Func<string, string?>? answer = null)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = answer is not null,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        var stdout = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                output.Append(line).Append('\n');
                if (answer?.Invoke(line) is { } reply)
                {
                    await process.StandardInput.WriteLineAsync(reply);
                    await process.StandardInput.FlushAsync();
                }
            }
        });
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        await stdout;
        return (process.ExitCode, output + await stderr);
    }
}
