using System.Net;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Portal.Tests.Support;
using SecureMailbox.Vault.Data;

namespace SecureMailbox.Portal.Tests.Mailbox;

/// <summary>The streamed reply upload: token first, attachments round-trip, the plan's cap, bad forms.</summary>
[TestFixture]
public sealed class ReplyUploadTests
{
    private PortalFactory _portal = null!;

    [SetUp]
    public void Start() => _portal = new PortalFactory(new Dictionary<string, string?> { ["Mailbox:MaxReplyBytesBasic"] = "3000000" });

    [TearDown]
    public void Stop() => _portal.Dispose();

    private async Task<(HttpClient Client, string MessageUrl, string Token)> ReplyFormAsync()
    {
        var (token, _) = await _portal.StoreMessageAsync("Fråga");
        var client = _portal.Browser();
        var url = await RecipientJourney.CreateAccountAsync(_portal, client, token);
        var page = await client.PageAsync(url + "/reply");
        return (client, url, BrowserSteps.Csrf(page.Html));
    }

    private static MultipartFormDataContent Form(string? csrf, string body, params (string Name, byte[] Content)[] files)
    {
        var form = new MultipartFormDataContent();
        if (csrf is not null)
        {
            form.Add(new StringContent(csrf), "__csrf");
        }
        form.Add(new StringContent("false"), "all");
        form.Add(new StringContent(body), "body");
        foreach (var (name, content) in files)
        {
            form.Add(new ByteArrayContent(content), "files", name);
        }
        return form;
    }

    [Test]
    public async Task Reply_TwoAttachments_ArriveWhole()
    {
        var (client, url, csrf) = await ReplyFormAsync();
        var first = RandomNumberGenerator.GetBytes(2_000_000);
        var second = RandomNumberGenerator.GetBytes(12_345);
        using var form = Form(csrf, "Se bilagorna.", ("röntgen.bin", first), ("intyg.pdf", second));

        using var reply = await client.PostAsync(new Uri(url + "/reply/send", UriKind.Relative), form);

        Assert.That(reply.Location(), Is.EqualTo("/mailbox/sent?done=sent"));
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var account = await db.Accounts.SingleAsync(a => a.Email == PortalFactory.PatientAddress);
        var sentItem = await db.MailboxItems.SingleAsync(i => i.AccountId == account.Id && i.Folder == SecureMailbox.Vault.Messages.Folder.Sent);
        var read = await client.PageAsync($"/mailbox/m/{sentItem.Id}");
        Assert.That(BrowserSteps.Text(read.Html), Does.Contain("Se bilagorna.").And.Contain("röntgen.bin").And.Contain("intyg.pdf"));
        using var a0 = await client.GetAsync(new Uri($"/mailbox/m/{sentItem.Id}/a/0", UriKind.Relative));
        using var a1 = await client.GetAsync(new Uri($"/mailbox/m/{sentItem.Id}/a/1", UriKind.Relative));
        Assert.That(SHA256.HashData(await a0.Content.ReadAsByteArrayAsync()), Is.EqualTo(SHA256.HashData(first)));
        Assert.That(SHA256.HashData(await a1.Content.ReadAsByteArrayAsync()), Is.EqualTo(SHA256.HashData(second)));
        var inbox = await client.PageAsync("/mailbox/sent");
        Assert.That(BrowserSteps.Text(inbox.Html), Does.Contain("Re: Fråga"));
        client.Dispose();
    }

    [Test]
    public async Task Reply_OverThePlansCap_IsRefusedAndNothingIsStored()
    {
        var (client, url, csrf) = await ReplyFormAsync();
        using var form = Form(csrf, "För stor.", ("stor.bin", RandomNumberGenerator.GetBytes(3_500_000)));

        using var reply = await client.PostAsync(new Uri(url + "/reply/send", UriKind.Relative), form);

        Assert.That(reply.Location(), Does.EndWith("/reply?error=toolarge"));
        var page = await client.PageAsync(reply.Location());
        Assert.That(BrowserSteps.Text(page.Html), Does.Contain("för stora"));
        var factory = _portal.Services.GetRequiredService<IDbContextFactory<VaultDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        Assert.That(await db.Messages.CountAsync(), Is.EqualTo(1), "only the original");
        var blobs = Directory.GetFiles(Path.Combine(_portal.Data.Path), "*", SearchOption.AllDirectories).Where(f => f.Contains("vault", StringComparison.Ordinal) || f.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.That(blobs.Count(f => f.EndsWith(".tmp", StringComparison.Ordinal)), Is.Zero, "no partial file left");
        client.Dispose();
    }

    [Test]
    public async Task Reply_WithoutToken_IsBadRequest()
    {
        var (client, url, _) = await ReplyFormAsync();
        using var form = Form(null, "Utan token.");

        using var reply = await client.PostAsync(new Uri(url + "/reply/send", UriKind.Relative), form);

        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        client.Dispose();
    }

    [Test]
    public async Task Reply_ForgedToken_IsBadRequest()
    {
        var (client, url, _) = await ReplyFormAsync();
        using var form = Form("CfDJ8forged", "Falsk token.");

        using var reply = await client.PostAsync(new Uri(url + "/reply/send", UriKind.Relative), form);

        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        client.Dispose();
    }

    [Test]
    public async Task Reply_EmptyBody_GoesBackToTheForm()
    {
        var (client, url, csrf) = await ReplyFormAsync();
        using var form = Form(csrf, "   ");

        using var reply = await client.PostAsync(new Uri(url + "/reply/send", UriKind.Relative), form);

        Assert.That(reply.Location(), Does.EndWith("/reply?error=invalid"));
        client.Dispose();
    }
}
