using System.Net;
using System.Text;
using SecureMailbox.Portal.Tests.Support;

namespace SecureMailbox.Portal.Tests.Sms;

/// <summary>The Twilio path with the real Twilio SDK, pointed at a recorder on 127.0.0.1.</summary>
[TestFixture]
public sealed class TwilioSmsTests
{
    private const string AccountSid = "AC0123456789abcdef0123456789abcdef";
    private const string AuthToken = "test-auth-token";

    [Test]
    public async Task SendCode_TwilioProvider_PostsTheMessageToTheMessagesApi()
    {
        using var recorder = new TwilioRecorder();
        using var portal = new PortalFactory(new Dictionary<string, string?>
        {
            ["Sms:Provider"] = "Twilio",
            ["Sms:Twilio:AccountSid"] = AccountSid,
            ["Sms:Twilio:AuthToken"] = AuthToken,
            ["Sms:Twilio:From"] = "+46700000000",
            ["Sms:Twilio:ApiBaseUrl"] = $"http://127.0.0.1:{recorder.Port}/",
        });
        var (token, _) = await portal.StoreMessageAsync("Ämne");
        using var client = portal.Browser();
        var verify = await RecipientJourney.OpenLinkAsync(client, token);

        var (status, html) = await RecipientJourney.SendCodeAsync(client, verify);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), html);
        Assert.That(recorder.Requests, Has.Count.EqualTo(1));
        var request = recorder.Requests.Single();
        Assert.That(request.Method, Is.EqualTo("POST"));
        Assert.That(request.Path, Is.EqualTo($"/2010-04-01/Accounts/{AccountSid}/Messages.json"));
        Assert.That(request.Authorization, Is.EqualTo("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}"))));
        var form = System.Web.HttpUtility.ParseQueryString(request.Body);
        Assert.That(form["To"], Is.EqualTo(PortalFactory.PatientPhone));
        Assert.That(form["From"], Is.EqualTo("+46700000000"));
        Assert.That(form["Body"], Does.Match(@"\b\d{6}\b"));
        Assert.That(portal.SmsCount(), Is.Zero, "nothing in the dev outbox");
        Assert.That(portal.Logs.Lines.Any(l => l.Contains(form["Body"]!, StringComparison.Ordinal)), Is.False, "the text (with its code) is not logged");
    }

    [Test]
    public void Start_TwilioWithoutAccountSid_FailsNamingTheSetting()
    {
        using var portal = new PortalFactory(new Dictionary<string, string?>
        {
            ["Sms:Provider"] = "Twilio",
            ["Sms:Twilio:AuthToken"] = AuthToken,
            ["Sms:Twilio:From"] = "+46700000000",
        });

        var exception = Assert.Catch(() => portal.Browser());

        Assert.That(exception!.ToString(), Does.Contain("Sms:Twilio:AccountSid"));
    }
}
