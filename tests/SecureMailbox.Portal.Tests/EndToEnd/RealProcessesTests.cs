using System.Net;
using System.Security.Cryptography;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using SecureMailbox.Portal.Tests.Support;

namespace SecureMailbox.Portal.Tests.EndToEnd;

/// <summary>
/// The whole product as separate processes: a flagged message with a 5 MB attachment goes through the real gateway
/// over SMTP; the recipient takes the link from the pickup folder and the code from the SMS outbox, chooses a
/// password, reads, downloads the attachment, replies; the sender's notification for the reply lands in the pickup folder.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RealProcessesTests
{
    private const string Sender = "sven@org.example";
    private const string Recipient = "anna@patient.example";
    private RealServices _services = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _services = await RealServices.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _services.DisposeAsync();

    [Test]
    public async Task FlaggedMail_ThroughGatewayAndPortal_RecipientReadsDownloadsAndReplies()
    {
        var attachment = RandomNumberGenerator.GetBytes(5 * 1024 * 1024);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Dr Sven Läkare", Sender));
        message.To.Add(new MailboxAddress("Anna Andersson", Recipient));
        message.Subject = "Remiss och provsvar";
        message.Headers.Add("X-SecureMailbox", "secure");
        message.Headers.Add("X-SecureMailbox-Phone", $"{Recipient}=+46701234567");
        var body = new BodyBuilder { TextBody = "Hej Anna,\r\nHär är din remiss.\r\n" };
        body.Attachments.Add("remiss.pdf", attachment, new ContentType("application", "pdf"));
        message.Body = body.ToMessageBody();
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
            token = _services.PickedUpFor(Recipient).Select(m => _services.LinkTokenIn(m.Message)).FirstOrDefault(t => t is not null);
            return Task.FromResult(token is not null);
        }, "the recipient's notification in the pickup folder");
        Assert.That(_services.PickedUpFor(Recipient).Single().Message.TextBody, Does.Not.Contain("remiss").IgnoreCase, "neutral notification");

        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(_services.BaseUrl), Timeout = TimeSpan.FromMinutes(2) };
        var verify = await RecipientJourney.OpenLinkAsync(client, token!);
        Assert.That(BrowserSteps.Text(verify), Does.Contain("+46 70 *** ** 67"));
        var (sendStatus, sendHtml) = await RecipientJourney.SendCodeAsync(client, verify);
        Assert.That(sendStatus, Is.EqualTo(HttpStatusCode.OK), sendHtml);
        using var check = await RecipientJourney.CheckCodeAsync(client, sendHtml, _services.LatestSmsCode());
        Assert.That(check.Location(), Is.EqualTo("/welcome"));
        var welcome = await client.PageAsync("/welcome");
        using var created = await client.PostFormAsync("/welcome", welcome.Html, ("password", RecipientJourney.Password), ("confirm", RecipientJourney.Password));
        var messageUrl = created.Location();
        Assert.That(messageUrl, Does.StartWith("/mailbox/m/"));

        var read = await client.PageAsync(messageUrl);
        Assert.That(read.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain("Här är din remiss.").And.Contain("Remiss och provsvar").And.Contain("remiss.pdf"));

        using (var download = await client.GetAsync(new Uri(messageUrl + "/a/0", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.That(download.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(download.Content.Headers.ContentDisposition?.DispositionType, Is.EqualTo("attachment"));
            await using var stream = await download.Content.ReadAsStreamAsync();
            Assert.That(await SHA256.HashDataAsync(stream), Is.EqualTo(SHA256.HashData(attachment)));
        }

        var before = _services.PickedUpFor(Sender).Select(m => m.File).ToHashSet();
        var replyPage = await client.PageAsync(messageUrl + "/reply");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(BrowserSteps.Csrf(replyPage.Html)), "__csrf" },
            { new StringContent("false"), "all" },
            { new StringContent("Tack, jag har läst remissen."), "body" },
            // Over Kestrel's default 30 MB request limit: the endpoint raises it to the plan's cap before reading.
            { new ByteArrayContent(RandomNumberGenerator.GetBytes(35 * 1024 * 1024)), "files", "underlag.bin" },
        };
        using var reply = await client.PostAsync(new Uri(messageUrl + "/reply/send", UriKind.Relative), form);
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await reply.Content.ReadAsStringAsync());

        MimeMessage? replyNotification = null;
        await _services.WaitAsync(() =>
        {
            replyNotification = _services.PickedUpFor(Sender).Where(m => !before.Contains(m.File)).Select(m => m.Message).FirstOrDefault();
            return Task.FromResult(replyNotification is not null);
        }, "the sender's notification for the reply");
        Assert.That(_services.LinkTokenIn(replyNotification!), Is.Not.Null, "it links to the portal");
        Assert.That(replyNotification!.TextBody, Does.Not.Contain("Tack, jag har läst"));
    }
}
