using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Tests.Support;

/// <summary>The real portal (Program) over a temp data folder and SQLite files, with a clock the test moves.</summary>
public sealed partial class PortalFactory : WebApplicationFactory<Program>
{
    public const string PatientAddress = "anna@patient.example";
    public const string PatientPhone = "+46701234567";
    public const string SenderAddress = "sven@org.example";
    public const string BodySentence = "Dina blodvärden ser bra ut och nästa kontroll är i mars.";

    private readonly Dictionary<string, string?> _settings;

    public PortalFactory(Dictionary<string, string?>? settings = null)
    {
        Data = new TempDirectory();
        _settings = new Dictionary<string, string?>
        {
            ["Vault:DataDirectory"] = Data.Path,
            // The server-held link secret as an operator would pass it in an environment variable (a key file beside
            // the temporary data folder would outlive it).
            ["Vault:LinkSecret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            // The address flows' answer floor costs 0.4 s a request; EvenTimingTests turn it on.
            ["Timing:AddressFlowFloor"] = "00:00:00",
            ["Portal:BaseUrl"] = "https://portal.test",
            ["Organisations:0:Name"] = "Region Test",
            ["Organisations:0:Domains:0"] = "org.example",
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    public TempDirectory Data { get; }

    public MovableTime Time { get; } = new();

    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Data.Dispose();
        }
    }

    /// <summary>A client that keeps cookies over https and never follows redirects (tests look at each step).</summary>
    public HttpClient Browser() => CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("https://localhost"),
        HandleCookies = true,
    });

    /// <summary>Stores a secure message the way the gateway does and returns the recipient's link token.</summary>
    public async Task<(string Token, StoreResult Result)> StoreMessageAsync(
        string subject, string? html = null, byte[]? attachment = null, string recipient = PatientAddress, string phone = PatientPhone, string? cc = null,
        MimeMessage? forwarded = null)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Dr Sven Läkare", SenderAddress));
        message.To.Add(new MailboxAddress("Anna Andersson", recipient));
        message.Subject = subject;
        message.Date = Time.GetUtcNow();
        var body = new BodyBuilder { TextBody = $"Hej Anna,\r\n{BodySentence}\r\n", HtmlBody = html };
        if (attachment is not null)
        {
            body.Attachments.Add("provsvar å.pdf", attachment, new ContentType("application", "pdf"));
        }
        if (forwarded is not null)
        {
            body.Attachments.Add(new MessagePart { Message = forwarded });
        }
        message.Body = body.ToMessageBody();
        var metadata = new MessageMetadata
        {
            Subject = subject,
            FromAddress = SenderAddress,
            FromName = "Dr Sven Läkare",
            To = [$"Anna Andersson <{recipient}>"],
            Cc = cc is null ? [] : [cc],
            Date = message.Date,
        };
        var writer = Services.GetRequiredService<VaultWriter>();
        var result = await writer.StoreAsync(Guid.NewGuid(), SenderAddress, [new RecipientRequest(recipient, phone)], metadata,
            (stream, ct) => message.WriteToAsync(stream, ct), null, CancellationToken.None);
        var reader = result.Readers.Single(r => !r.IsSender);
        return (reader.Token, result);
    }

    private readonly HashSet<string> _seenSms = [];

    /// <summary>
    /// The code in the SMS that arrived in the dev outbox since the last call (file names order by the fake clock,
    /// which tests do not always move, so "new since last time" is what identifies it).
    /// </summary>
    public string LatestSmsCode()
    {
        var folder = Path.Combine(Data.Path, "sms-outbox");
        WaitForQueuedSms();
        var fresh = new DirectoryInfo(folder).GetFiles("*.txt").Where(f => !_seenSms.Contains(f.Name)).ToList();
        Assert.That(fresh, Has.Count.EqualTo(1), "one new SMS since the last look");
        _seenSms.Add(fresh[0].Name);
        var match = SixDigits().Match(File.ReadAllText(fresh[0].FullName));
        Assert.That(match.Success, Is.True, "the SMS holds a 6-digit code");
        return match.Value;
    }

    /// <summary>The mails queued for <paramref name="address"/> (notices, notifications), parsed; their order is not meaningful (the tests' clock is frozen).</summary>
    public async Task<List<MimeMessage>> QueuedMailToAsync(string address)
    {
        var factory = Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<SecureMailbox.Vault.Data.VaultDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var queued = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            db.OutboundMessages.Where(m => m.Recipients.Any(r => r.Address == address)).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id));
        var queue = Services.GetRequiredService<SecureMailbox.Vault.Outbound.OutboundQueue>();
        var mails = new List<MimeMessage>();
        foreach (var message in queued)
        {
            mails.Add(await MimeMessage.LoadAsync(queue.ContentPathOf(message.ContentPath)));
        }
        return mails;
    }

    /// <summary>Recovery codes go out after the response (<c>SmsDispatcher</c>): waits until none is queued or in flight.</summary>
    private void WaitForQueuedSms()
    {
        var dispatcher = Services.GetRequiredService<SecureMailbox.Portal.Sms.SmsDispatcher>();
        for (var waited = 0; dispatcher.Pending > 0 && waited < 5000; waited += 10)
        {
            Thread.Sleep(10);
        }
        Assert.That(dispatcher.Pending, Is.Zero, "queued SMS went out");
    }

    /// <summary>SMS in the dev outbox, once the ones queued for after the response (SmsDispatcher) have gone out.</summary>
    public int SmsCount()
    {
        WaitForQueuedSms();
        return Directory.Exists(Path.Combine(Data.Path, "sms-outbox")) ? Directory.GetFiles(Path.Combine(Data.Path, "sms-outbox")).Length : 0;
    }

    [GeneratedRegex(@"\b\d{6}\b")]
    private static partial Regex SixDigits();
}

/// <summary>Form posts the way a browser sends them: with the page's anti-forgery field.</summary>
public static partial class BrowserSteps
{
    public static async Task<(HttpStatusCode Status, string Html, HttpResponseMessage Response)> PageAsync(this HttpClient client, string url)
    {
        ArgumentNullException.ThrowIfNull(client);
        var response = await client.GetAsync(new Uri(url, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    public static string Csrf(string html)
    {
        var match = CsrfField().Match(html);
        Assert.That(match.Success, Is.True, "the page has an anti-forgery field");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string url, string csrfFromHtml, params (string Key, string Value)[] fields)
    {
        ArgumentNullException.ThrowIfNull(client);
        var values = fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)).ToList();
        if (csrfFromHtml.Length > 0)
        {
            values.Add(new KeyValuePair<string, string>("__csrf", Csrf(csrfFromHtml)));
        }
        using var content = new FormUrlEncodedContent(values);
        return await client.PostAsync(new Uri(url, UriKind.Relative), content);
    }

    public static string Location(this HttpResponseMessage response) =>
        response?.Headers.Location?.OriginalString ?? throw new AssertionException($"expected a redirect, got {(int?)response?.StatusCode}");

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();

    public static string Text(string html) => WebUtility.HtmlDecode(html);

    public static Encoding Utf8 => Encoding.UTF8;
}
