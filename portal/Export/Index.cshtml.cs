using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Messages;

namespace SecureMailbox.Portal.Export;

/// <summary>
/// Export my mailbox (GDPR portability, no lock-in): after re-authentication (password and second factor: the zip
/// holds the private key, so it is as sensitive as a password change), a zip streamed to the browser with
/// <c>identity.txt</c> (the age identity), each message as a standard age file, and a README saying how the stock
/// <c>age</c> tool opens them.
/// </summary>
[RequestSizeLimit(64 * 1024)]
public sealed class ExportPage(SessionStore sessions, IDbContextFactory<VaultDbContext> vaultFactory, VaultReader reader)
    : SignedInPageModel(sessions)
{
    private const string Path = "/export";

    public async Task<IActionResult> OnGetAsync() => await RequireRecentAuthenticationAsync(Path) ?? Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (await RequireRecentAuthenticationAsync(Path) is { } redirect)
        {
            return redirect;
        }
        await using var db = await vaultFactory.CreateDbContextAsync(HttpContext.RequestAborted);
        // Locked items are left out: their stanza is for a replaced key that nobody holds, so there is nothing to export.
        var items = await db.MailboxItems.AsNoTracking().Where(i => i.AccountId == Session.AccountId && i.PendingLinkId == null && i.LockedAt == null)
            .OrderBy(i => i.CreatedAt).ToListAsync(HttpContext.RequestAborted);
        var messageIds = items.Select(i => i.MessageId).ToList();
        var messages = await db.Messages.AsNoTracking().Where(m => messageIds.Contains(m.Id)).ToDictionaryAsync(m => m.Id, HttpContext.RequestAborted);

        // ZipArchive writes synchronously; the archive goes straight to the response, entry by entry.
        var bodyControl = HttpContext.Features.Get<IHttpBodyControlFeature>();
        if (bodyControl is not null)
        {
            bodyControl.AllowSynchronousIO = true;
        }
        HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName("securemailbox-export.zip");
        Response.Headers.ContentDisposition = disposition.ToString();
        Response.ContentType = "application/zip";
        using (var zip = new ZipArchive(Response.Body, ZipArchiveMode.Create, leaveOpen: true))
        {
            await WriteTextAsync(zip, "README.txt", Readme);
            await WriteTextAsync(zip, "identity.txt",
                "# WARNING / VARNING: this is your private key. Anyone with this file can read all your messages.\n" +
                "# Keep it safe and delete it when you no longer need it. / Detta är din privata nyckel: förvara den säkert.\n" +
                Session.Key + "\n");
            foreach (var item in items)
            {
                if (!messages.TryGetValue(item.MessageId, out var message))
                {
                    continue;
                }
                var entry = zip.CreateEntry($"{item.Folder.ToString().ToLowerInvariant()}/{item.CreatedAt:yyyyMMdd-HHmmss}-{item.Id:N}.age", CompressionLevel.NoCompression);
                await using var output = entry.Open();
                await reader.ExportAgeFileAsync(message, item.Stanza, Session.Key, output, HttpContext.RequestAborted);
            }
        }
        await Response.Body.FlushAsync(HttpContext.RequestAborted);
        return new EmptyResult();
    }

    private static async Task WriteTextAsync(ZipArchive zip, string name, string text)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        await using var stream = entry.Open();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    private const string Readme =
        "SecureMailbox export\n====================\n\n" +
        "identity.txt is your private key (age X25519 identity). Every message is a standard age file (https://age-encryption.org/v1)\n" +
        "holding the original e-mail (MIME). Open one with the stock age tool:\n\n" +
        "    age -d -i identity.txt message.age > message.eml\n\n" +
        "Then open message.eml in any mail program.\n\n" +
        "Svenska: identity.txt är din privata nyckel. Varje meddelande är en age-fil; öppna den med\n" +
        "    age -d -i identity.txt meddelande.age > meddelande.eml\n";
}
