using System.Text;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Phones;
using Twilio.Clients;
using Twilio.Http;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace SecureMailbox.Portal.Sms;

/// <summary>Sends one SMS. Implementations never log the text (it holds codes).</summary>
public interface ISmsSender
{
    Task SendAsync(string e164, string text, CancellationToken cancellationToken);
}

/// <summary>
/// The offline default: each SMS is a file in <c>&lt;data&gt;/sms-outbox</c> (so the two-command set-up works without a
/// provider). The log line names the masked number and the file, never the text.
/// </summary>
public sealed class OutboxSmsSender(IOptions<VaultOptions> vault, TimeProvider time, ILogger<OutboxSmsSender> logger) : ISmsSender
{
    public string Folder { get; } = Path.Combine(vault.Value.DataPath, "sms-outbox");

    public async Task SendAsync(string e164, string text, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var name = $"{time.GetUtcNow():yyyyMMddHHmmssfff}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}.txt";
        var path = Path.Combine(Folder, name);
        await File.WriteAllTextAsync(path, $"To: {e164}\n\n{text}\n", Encoding.UTF8, cancellationToken);
        logger.LogInformation("SMS to {Phone} written to the dev outbox as {File}", PhoneNumberRules.Mask(e164), name);
    }
}

/// <summary>At start: the dev outbox exists (so it can be watched before the first code) and the log says where it is.</summary>
internal sealed class OutboxAnnouncement(OutboxSmsSender outbox, ILogger<OutboxAnnouncement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outbox.Folder);
        logger.LogInformation("SMS codes are written to the dev outbox {Folder} (Sms:Provider=Outbox)", outbox.Folder);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Twilio's Messages API through the Twilio SDK.</summary>
public sealed class TwilioSmsSender : ISmsSender
{
    private readonly ITwilioRestClient _client;
    private readonly string _from;
    private readonly ILogger<TwilioSmsSender> _logger;

    public TwilioSmsSender(IOptions<SmsOptions> options, IHttpClientFactory httpClients, ILogger<TwilioSmsSender> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClients);
        var twilio = options.Value.Twilio;
        _from = twilio.From!;
        _logger = logger;
        _client = new TwilioRestClient(twilio.AccountSid, twilio.AuthToken, httpClient: new SystemNetHttpClient(httpClients.CreateClient(HttpClientName)));
    }

    public const string HttpClientName = "twilio";

    public async Task SendAsync(string e164, string text, CancellationToken cancellationToken)
    {
        var message = await MessageResource.CreateAsync(to: new PhoneNumber(e164), from: new PhoneNumber(_from), body: text, client: _client);
        _logger.LogInformation("SMS to {Phone} accepted by Twilio as {Sid}", PhoneNumberRules.Mask(e164), message.Sid);
    }
}

/// <summary>Points the Twilio SDK's requests at another base URL (tests: a recorder on 127.0.0.1).</summary>
internal sealed class TwilioBaseUrlHandler(Uri baseUrl) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri)
        {
            request.RequestUri = new Uri(baseUrl, uri.PathAndQuery);
        }
        return base.SendAsync(request, cancellationToken);
    }
}
