using System.Text;
using MimeKit;
using SecureMailbox.Gateway.Delivery;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The relay form of a queued message: its exact bytes, and what MailKit sees to choose BODY=8BITMIME.</summary>
[TestFixture]
public sealed class MessageRewriterTests
{
    private static Func<Stream> Content(string text) => () => new MemoryStream(Encoding.UTF8.GetBytes(text));

    [TestCase("Received: x\r\nSubject: a\r\n\r\nHej Åsa\r\n", true)]
    [TestCase("Received: x\r\nSubject: a\r\n\r\nplain\r\n", false)]
    public async Task LoadForRelayAsync_Content_ShowsAnEightBitPartOnlyForEightBitContent(string text, bool eightBit)
    {
        using var relay = await MessageRewriter.LoadForRelayAsync(Content(text), strip: true, eightBit: false, CancellationToken.None);
        var visitor = new EncodingVisitor();

        visitor.Visit(relay.Message);

        Assert.That(visitor.EightBit, Is.EqualTo(eightBit));
    }

    [Test]
    public async Task LoadForRelayAsync_Written_IsTheBytesWithoutPrivateFields()
    {
        const string text = "Received: x\r\nX-SecureMailbox-Phone: a=b\r\nSubject: a\r\n\r\nbody\r\n--b\r\n--b\r\n";
        using var relay = await MessageRewriter.LoadForRelayAsync(Content(text), strip: true, eightBit: false, CancellationToken.None);
        using var output = new MemoryStream();
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;

        await relay.Message.WriteToAsync(options, output);

        Assert.That(Encoding.UTF8.GetString(output.ToArray()), Is.EqualTo("Received: x\r\nSubject: a\r\n\r\nbody\r\n--b\r\n--b\r\n"));
    }

    private sealed class EncodingVisitor : MimeVisitor
    {
        public bool EightBit { get; private set; }

        protected override void VisitMimePart(MimePart entity) => EightBit |= entity.ContentTransferEncoding == ContentEncoding.EightBit;
    }
}

/// <summary>MailKit sending the relay form to a real SMTP server declares BODY=8BITMIME for 8-bit content.</summary>
[TestFixture]
public sealed class MessageRewriterSendTests
{
    [Test]
    public async Task SendAsync_EightBitRelayForm_DeclaresBody8BitMime()
    {
        await using var nextHop = new Support.NextHopServer();
        await nextHop.StartAsync();
        using var relay = await MessageRewriter.LoadForRelayAsync(() => new MemoryStream(Encoding.UTF8.GetBytes("Received: x\r\nSubject: a\r\n\r\nHej Åsa\r\n")), strip: true, eightBit: false, CancellationToken.None);
        using var client = new MailKit.Net.Smtp.SmtpClient();
        await client.ConnectAsync("127.0.0.1", nextHop.Port, MailKit.Security.SecureSocketOptions.None);

        await client.SendAsync(relay.Message, MailboxAddress.Parse("a@b.example"), [MailboxAddress.Parse("c@d.example")]);

        var received = (await nextHop.WaitForAsync(1, TimeSpan.FromSeconds(10))).Single();
        Assert.That(received.Parameters.GetValueOrDefault("BODY"), Is.EqualTo("8BITMIME"), string.Join(",", received.Parameters.Keys) + " caps " + client.Capabilities);
    }
}
