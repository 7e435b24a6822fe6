using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Crypto;

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

    /// <summary>
    /// "Forgot password" sends a code only for a real account: the answer must not wait for Twilio, or the response
    /// time would tell which addresses have accounts (docs/rules.md A12). The SMS still goes out, after the answer.
    /// </summary>
    [Test]
    public async Task ForgotPassword_KnownAddress_AnswersWithoutWaitingForTwilio()
    {
        var twilioDelay = TimeSpan.FromSeconds(2);
        using var recorder = new TwilioRecorder(twilioDelay);
        using var portal = new PortalFactory(new Dictionary<string, string?>
        {
            ["Sms:Provider"] = "Twilio",
            ["Sms:Twilio:AccountSid"] = AccountSid,
            ["Sms:Twilio:AuthToken"] = AuthToken,
            ["Sms:Twilio:From"] = "+46700000000",
            ["Sms:Twilio:ApiBaseUrl"] = $"http://127.0.0.1:{recorder.Port}/",
        });
        using var key = AgeIdentity.Generate();
        var account = await portal.Services.GetRequiredService<AccountKeys>()
            .RegisterAsync(PortalFactory.PatientAddress, PortalFactory.PatientPhone, key, RecipientJourney.Password, "se", CancellationToken.None);
        Assert.That(account, Is.Not.Null);

        var known = await TimeForgotAsync(portal, PortalFactory.PatientAddress);
        var unknown = await TimeForgotAsync(portal, "nobody@example.org");

        Assert.That(known.Html, Is.EqualTo(unknown.Html), "the same page");
        Assert.That(known.Elapsed, Is.LessThan(twilioDelay), "did not wait for Twilio");
        for (var waited = 0; recorder.Requests.IsEmpty && waited < 10_000; waited += 50)
        {
            await Task.Delay(50);
        }
        Assert.That(recorder.Requests, Has.Count.EqualTo(1), "the known address's code went out after the answer; the unknown one got none");
        Assert.That(recorder.Requests.Single().Body, Does.Contain(Uri.EscapeDataString(PortalFactory.PatientPhone)));
    }

    private static async Task<(TimeSpan Elapsed, string Html)> TimeForgotAsync(PortalFactory portal, string email)
    {
        using var client = portal.Browser();
        var form = await client.PageAsync("/signin/forgot");
        var watch = Stopwatch.StartNew();
        using var posted = await client.PostFormAsync("/signin/forgot", form.Html, ("email", email));
        var elapsed = watch.Elapsed;
        var next = posted.StatusCode == HttpStatusCode.Redirect ? await client.PageAsync(posted.Location()) : (posted.StatusCode, await posted.Content.ReadAsStringAsync(), posted);
        return (elapsed, RecoveryJourney.Comparable(next.Item2));
    }
}
