using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>Small helpers shared by the protocol fixtures: raw transactions, simple messages, waiting for files.</summary>
public static class RawSmtpTransaction
{
    /// <summary>MAIL, RCPT, DATA; then the raw DATA bytes (which must end the DATA themselves); returns the end-of-data reply.</summary>
    public static async Task<string> SendDataAsync(this RawSmtpClient client, string from, string to, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(client);
        var mail = await client.CommandAsync($"MAIL FROM:<{from}>");
        Assert.That(mail, Does.StartWith("250"), "MAIL FROM");
        var rcpt = await client.CommandAsync($"RCPT TO:<{to}>");
        Assert.That(rcpt, Does.StartWith("250"), "RCPT TO");
        var dataReply = await client.CommandAsync("DATA");
        Assert.That(dataReply, Does.StartWith("354"), "DATA");
        await client.SendAsync(data);
        return await client.ReadReplyAsync();
    }

    /// <summary>A short well-formed message, CRLF line endings, ended by CRLF.CRLF.</summary>
    public static byte[] SimpleData(string subject, string body = "Hej.") =>
        Encoding.ASCII.GetBytes($"From: <sender@org.example>\r\nTo: <rita@elsewhere.example>\r\nSubject: {subject}\r\n\r\n{body}\r\n.\r\n");

    /// <summary>A MimeKit message with a text body.</summary>
    public static MimeMessage Message(string subject, string body = "Hej Rita.\r\n")
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Sven Sender", "sender@org.example"));
        message.To.Add(new MailboxAddress("Rita Recipient", "rita@elsewhere.example"));
        message.Subject = subject;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("org.example");
        message.Date = DateTimeOffset.UtcNow;
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    /// <summary>Sends with MailKit over STARTTLS (any certificate) and returns the end-of-data reply text.</summary>
    public static async Task<string> SendWithMailKitAsync(System.Net.IPEndPoint endpoint, MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.StartTls);
        var response = await client.SendAsync(message);
        await client.DisconnectAsync(true);
        return response;
    }

    /// <summary>Polls until the condition holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
        return true;
    }

    /// <summary>Files in a folder (none when the folder is missing).</summary>
    public static string[] FilesIn(string directory) => Directory.Exists(directory) ? Directory.GetFiles(directory) : [];
}
