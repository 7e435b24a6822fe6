using System.Diagnostics;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MailKit.Security;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>The inbound SMTP conversation, byte by byte: smuggling, STARTTLS injection, TLS versions, reply codes, pipelining, MIME bombs.</summary>
[TestFixture]
public sealed partial class SmtpProtocolTests : GatewayFixture
{
    private string TemporarySpool => Path.Combine(Data.Path, "spool", "tmp");

    private async Task<RawSmtpClient> ConnectAsync()
    {
        var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));
        return client;
    }

    /// <summary>Waits a little past the delivery of what should arrive, so a late extra message would be seen.</summary>
    private async Task<List<ReceivedMessage>> SettledMessagesAsync(int expected)
    {
        await NextHop.WaitForAsync(expected, TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        return NextHop.Messages.ToList();
    }

    private static string Text(ReceivedMessage message) => Encoding.Latin1.GetString(message.Data);

    [TestCase("\n.\n", TestName = "Data_SmuggledAfterLfDotLf_IsRefusedAndOnlyTheNextMessageIsRelayed")]
    [TestCase("\r\n.\n", TestName = "Data_SmuggledAfterCrLfDotLf_IsRefusedAndOnlyTheNextMessageIsRelayed")]
    [TestCase("\n.\r\n", TestName = "Data_SmuggledAfterLfDotCrLf_IsRefusedAndOnlyTheNextMessageIsRelayed")]
    [TestCase("\r.\r\n", TestName = "Data_SmuggledAfterCrDotCrLf_IsRefusedAndOnlyTheNextMessageIsRelayed")]
    [TestCase("\r\n\0.\r\n", TestName = "Data_SmuggledAfterCrLfNulDotCrLf_IsRefusedAndOnlyTheNextMessageIsRelayed")]
    [TestCase("\r\n.\0\r\n", TestName = "Data_SmuggledAfterCrLfDotNulCrLf_IsRefusedAndOnlyTheNextMessageIsRelayed")]
    public async Task Data_SmuggledSecondMessage_IsRefusedAndNothingIsRelayed(string fakeEnd)
    {
        using var client = await ConnectAsync();
        var smuggling = "From: <sender@org.example>\r\nTo: <rita@elsewhere.example>\r\nSubject: outer\r\n\r\nouter body" + fakeEnd
            + "MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nFrom: <evil@x>\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n.\r\n";

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", Encoding.Latin1.GetBytes(smuggling));

        Assert.That(reply, Does.StartWith("550 5.6.0"));
        var after = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", RawSmtpTransaction.SimpleData("after the refusal"));
        Assert.That(after, Does.StartWith("250"));
        var messages = await SettledMessagesAsync(1);
        Assert.That(messages, Has.Count.EqualTo(1), "exactly the one correct message, never a second (smuggled) one");
        Assert.That(Text(messages[0]), Does.Contain("Subject: after the refusal"));
        Assert.That(messages.SelectMany(m => m.To), Has.No.Member("victim@y"));
        Assert.That(messages.Select(m => m.From), Has.No.Member("evil@x"));
        Assert.That(messages.Select(Text), Has.None.Contains("smuggled"));
    }

    [Test]
    public async Task Data_DotStuffedLines_ArriveUnstuffedIncludingALoneDotLastLine()
    {
        using var client = await ConnectAsync();
        var data = "From: <sender@org.example>\r\nTo: <rita@elsewhere.example>\r\nSubject: dots\r\n\r\nfirst\r\n..hidden\r\n...two\r\n..\r\n.\r\n";

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", Encoding.ASCII.GetBytes(data));

        Assert.That(reply, Does.StartWith("250"));
        var messages = await SettledMessagesAsync(1);
        Assert.That(messages, Has.Count.EqualTo(1));
        Assert.That(Text(messages[0]), Does.EndWith("\r\n\r\nfirst\r\n.hidden\r\n..two\r\n.\r\n"));
    }

    [TestCase("Content-Transfer-Encoding: 8bit\r\n", "8BITMIME", TestName = "Data_EightBitBodyWithEncodingHeader_IsRelayedIntactAndDeclaredBody8BitMime")]
    // Declared by what the content is (RFC 6152): 8-bit bytes without a Content-Transfer-Encoding field are still 8-bit.
    [TestCase("", "8BITMIME", TestName = "Data_EightBitBodyWithoutEncodingHeader_IsRelayedIntactWithNoHeaderAddedAndDeclaredBody8BitMime")]
    public async Task Data_EightBitBody_IsRelayedIntact(string encodingHeader, string? body)
    {
        using var client = await ConnectAsync();
        var message = "From: <sender@org.example>\r\nSubject: eight bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + encodingHeader + "\r\nHej Åsa, här är rapporten.\r\n";

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", [.. Encoding.UTF8.GetBytes(message), .. ".\r\n"u8]);

        Assert.That(reply, Does.StartWith("250"));
        var messages = await SettledMessagesAsync(1);
        Assert.That(messages, Has.Count.EqualTo(1));
        Assert.That(Encoding.UTF8.GetString(messages[0].Data), Does.EndWith(message), "relayed byte for byte, no Content-Transfer-Encoding added");
        Assert.That(messages[0].Parameters.GetValueOrDefault("BODY"), Is.EqualTo(body), "8-bit parts are declared to the next hop (RFC 6152)");
    }

    [Test]
    public async Task StartTls_PlaintextPipelinedAfterIt_IsDiscarded()
    {
        using var client = await ConnectAsync();
        await client.SendAsync("STARTTLS\r\nMAIL FROM:<a@b>\r\n");
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("220"));
        var ssl = new SslStream(client.Stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "gateway.test",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        client.Stream = ssl;

        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));
        var rcpt = await client.CommandAsync("RCPT TO:<x@y>");

        Assert.That(rcpt, Does.StartWith("503"), "the MAIL FROM injected before the handshake must not count");
    }

    [TestCase(SslProtocols.Tls12)]
    [TestCase(SslProtocols.Tls13)]
    public async Task StartTls_ModernProtocol_IsNegotiated(SslProtocols protocol)
    {
        using var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("STARTTLS"), Does.StartWith("220"));
        var ssl = new SslStream(client.Stream, leaveInnerStreamOpen: false);

        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "gateway.test",
            EnabledSslProtocols = protocol,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        client.Stream = ssl;

        Assert.That(ssl.SslProtocol, Is.EqualTo(protocol));
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));
    }

#pragma warning disable SYSLIB0039, CA5397 // TLS 1.0 and 1.1 are obsolete: that is the point of the test
    [TestCase(SslProtocols.Tls11)]
    [TestCase(SslProtocols.Tls)]
    public async Task StartTls_ObsoleteProtocolFromDotNet_HandshakeFails(SslProtocols protocol)
    {
        // On OpenSSL 3 the client side may refuse to offer these versions itself, so this alone does not prove
        // the server refuses them; StartTls_Tls11OfferedByOpenSslAtSecurityLevel0_ServerAnswersProtocolVersionAlert does.
        using var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("STARTTLS"), Does.StartWith("220"));
        var ssl = new SslStream(client.Stream, leaveInnerStreamOpen: false);

        var handshake = ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "gateway.test",
            EnabledSslProtocols = protocol,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });

        Assert.That(async () => await handshake, Throws.InstanceOf<System.Security.Authentication.AuthenticationException>().Or.InstanceOf<IOException>());
        await ssl.DisposeAsync();
    }
#pragma warning restore SYSLIB0039, CA5397

    [TestCase("-tls1_1")]
    [TestCase("-tls1")]
    public async Task StartTls_OldProtocolOfferedByOpenSslAtSecurityLevel0_ServerAnswersProtocolVersionAlert(string versionFlag)
    {
        // openssl s_client at security level 0 really sends a TLS 1.0/1.1-only ClientHello; a server that refuses the
        // version answers with a protocol_version alert (SSL alert number 70), which is what we look for; a client-side
        // refusal would say "no protocols available" instead, and a server that accepted would print a cipher.
        if (!File.Exists("/usr/bin/openssl"))
        {
            Assert.Ignore("openssl is not installed");
        }
        var start = new ProcessStartInfo("/usr/bin/openssl",
            ["s_client", "-connect", $"127.0.0.1:{Gateway.Endpoint.Port}", "-starttls", "smtp", versionFlag, "-cipher", "DEFAULT@SECLEVEL=0"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        var output = await stdout + await stderr;

        Assert.That(output, Does.Contain("alert protocol version"), output);
        Assert.That(output, Does.Contain("Cipher is (NONE)"), "no session was established");
    }

    [Test]
    public async Task Ehlo_Reply_AdvertisesTheExtensionsAndCarriesNoEnhancedCodes()
    {
        using var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);

        var ehlo = await client.CommandAsync("EHLO client.test");

        var lines = ehlo.Split('\n');
        var keywords = lines.Select(l => l[4..].Split(' ')[0]).ToList();
        Assert.That(keywords, Is.SupersetOf(new[] { "ENHANCEDSTATUSCODES", "SIZE", "PIPELINING", "8BITMIME", "STARTTLS" }));
        Assert.That(lines, Has.None.Match(EnhancedPattern), "EHLO lines are keywords, not status text");
        Assert.That(client.Greeting, Is.EqualTo("220 gateway.test ESMTP SecureMailbox"), "no library name or version");
        Assert.That(client.Greeting, Does.Not.Match(EnhancedPattern));
    }

    private const string EnhancedPattern = @"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}( |$)";

    [GeneratedRegex(EnhancedPattern)]
    private static partial Regex Enhanced();

    private static void AssertEnhanced(string reply, string what)
    {
        foreach (var line in reply.Split('\n'))
        {
            Assert.That(Enhanced().IsMatch(line), Is.True, $"{what}: '{line}' has no enhanced status code");
            Assert.That(line[4], Is.EqualTo(line[0]), $"{what}: the class of the enhanced code matches the reply");
        }
    }

    [Test]
    public async Task Replies_ToTransactionCommands_CarryEnhancedStatusCodes()
    {
        using var client = await ConnectAsync();

        AssertEnhanced(await client.CommandAsync("RCPT TO:<early@elsewhere.example>"), "RCPT before MAIL (503)");
        AssertEnhanced(await client.CommandAsync("MAIL FROM:<sender@org.example>"), "MAIL");
        AssertEnhanced(await client.CommandAsync("RCPT TO:<rita@elsewhere.example>"), "RCPT");
        Assert.That(await client.CommandAsync("DATA"), Does.StartWith("354"));
        await client.SendAsync(RawSmtpTransaction.SimpleData("codes"));
        AssertEnhanced(await client.ReadReplyAsync(), "end of data (250)");
        AssertEnhanced(await client.CommandAsync("RSET"), "RSET");
        AssertEnhanced(await client.CommandAsync("XYZZY"), "unknown command");
        AssertEnhanced(await client.CommandAsync("MAIL FROM:<sender@org.example> SIZE=999999999999"), "MAIL with SIZE over the limit");
        AssertEnhanced(await client.CommandAsync("MAIL FROM:<sender@org.example>"), "MAIL after RSET");
        AssertEnhanced(await client.CommandAsync("RCPT TO:<rita@elsewhere.example>"), "RCPT");
        Assert.That(await client.CommandAsync("DATA"), Does.StartWith("354"));
        await client.SendAsync(Encoding.ASCII.GetBytes("Subject: bare\nLF\r\n\r\nbody\r\n.\r\n"));
        AssertEnhanced(await client.ReadReplyAsync(), "end of data (550 refusal)");
        AssertEnhanced(await client.CommandAsync("QUIT"), "QUIT");
    }

    [Test]
    public async Task Pipelining_ThreeMessagesInOneMailKitSession_AllArriveMatchingTheirReplies()
    {
        var replies = new List<string>();
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync(Gateway.Endpoint.Address.ToString(), Gateway.Endpoint.Port, SecureSocketOptions.StartTls);
            Assert.That(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining), Is.True);
            for (var i = 1; i <= 3; i++)
            {
                replies.Add(await client.SendAsync(RawSmtpTransaction.Message($"pipelined {i}")));
            }
            await client.DisconnectAsync(true);
        }

        var messages = await SettledMessagesAsync(3);
        Assert.That(messages, Has.Count.EqualTo(3));
        var ids = replies.Select(r => Regex.Match(r, "queued as (\\w+)").Groups[1].Value).ToList();
        Assert.That(ids, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal), "accepted in the order sent");
        for (var i = 0; i < 3; i++)
        {
            var relayed = messages.Single(m => Text(m).Contains($"Subject: pipelined {i + 1}\r\n", StringComparison.Ordinal));
            Assert.That(Text(relayed), Does.Contain($" id {ids[i]};"), $"the reply to message {i + 1} names the spool id of that message");
        }
    }

    [Test]
    public async Task Pipelining_NextTransactionInTheSameWriteAsTheEndOfData_IsHandledInOrder()
    {
        using var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("RCPT TO:<rita@elsewhere.example>"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("DATA"), Does.StartWith("354"));

        await client.SendAsync([.. RawSmtpTransaction.SimpleData("first of two"), .. "MAIL FROM:<second@org.example>\r\nRCPT TO:<bob@elsewhere.example>\r\nDATA\r\n"u8]);

        Assert.That(await client.ReadReplyAsync(), Does.StartWith("250 2.0.0"));
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("250 2.1.0"));
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("250 2.1.5"));
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("354"));
        await client.SendAsync(RawSmtpTransaction.SimpleData("second of two"));
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("250 2.0.0"));
        var messages = await SettledMessagesAsync(2);
        Assert.That(messages, Has.Count.EqualTo(2));
        Assert.That(messages.Single(m => m.From == "second@org.example").To, Is.EqualTo(new[] { "bob@elsewhere.example" }));
        Assert.That(Text(messages.Single(m => m.From == "second@org.example")), Does.Contain("Subject: second of two"));
    }

    [Test]
    public async Task Data_ContentSentBeforeThe354_IsRefusedAndTheSessionStaysInStep()
    {
        using var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("RCPT TO:<rita@elsewhere.example>"), Does.StartWith("250"));

        // RFC 2920 §3.1: DATA must be the last command of a group; the content may only follow the 354.
        await client.SendAsync([.. "DATA\r\n"u8, .. RawSmtpTransaction.SimpleData("too eager")]);

        Assert.That(await client.ReadReplyAsync(), Does.StartWith("354"));
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("503"));
        Assert.That(await client.CommandAsync("RSET"), Does.StartWith("250 2.0.0"), "the next command is answered, not swallowed as message content");
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("250 2.1.0"), "replies and commands still pair up");
        Assert.That(await client.CommandAsync("RCPT TO:<rita@elsewhere.example>"), Does.StartWith("250 2.1.5"));
        Assert.That(await client.CommandAsync("DATA"), Does.StartWith("354"));
        await client.SendAsync(RawSmtpTransaction.SimpleData("patient"));
        Assert.That(await client.ReadReplyAsync(), Does.StartWith("250 2.0.0"));
        var messages = await SettledMessagesAsync(1);
        Assert.That(messages, Has.Count.EqualTo(1));
        Assert.That(Text(messages[0]), Does.Contain("Subject: patient"));
    }

    [Test]
    public async Task Data_ClientDisconnectsMidway_LeavesNoSpoolFileAndRelaysNothing()
    {
        var client = await ConnectAsync();
        Assert.That(await client.CommandAsync("MAIL FROM:<sender@org.example>"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("RCPT TO:<rita@elsewhere.example>"), Does.StartWith("250"));
        Assert.That(await client.CommandAsync("DATA"), Does.StartWith("354"));
        await client.SendAsync("From: <sender@org.example>\r\nSubject: cut off\r\n\r\n" + new string('x', 200_000) + "\r\n");
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => RawSmtpTransaction.FilesIn(TemporarySpool).Length > 0, TimeSpan.FromSeconds(10)),
            Is.True, "the capture started writing to spool/tmp");

        client.Dispose();

        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => RawSmtpTransaction.FilesIn(TemporarySpool).Length == 0, TimeSpan.FromSeconds(10)),
            Is.True, "the partial file is removed");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.That(NextHop.Messages, Is.Empty);
        Assert.That(await Gateway.Queue.ListAsync(CancellationToken.None), Is.Empty);
    }

    private async Task AssertStillAcceptsAsync(RawSmtpClient client, string subject)
    {
        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", RawSmtpTransaction.SimpleData(subject));
        Assert.That(reply, Does.StartWith("250"), "a normal message right after is accepted");
        var messages = await SettledMessagesAsync(1);
        Assert.That(messages, Has.Count.EqualTo(1), "only the normal message is relayed");
        Assert.That(Text(messages[0]), Does.Contain($"Subject: {subject}"));
    }

    [Test]
    public async Task Data_MimeNested150Deep_IsRefusedAndTheGatewayStaysResponsive()
    {
        var message = new StringBuilder("From: <sender@org.example>\r\nSubject: deep\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
        for (var i = 0; i < 150; i++)
        {
            message.Append(System.Globalization.CultureInfo.InvariantCulture, $"--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\r\n\r\n");
        }
        message.Append("--b150\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n--b150--\r\n");
        for (var i = 149; i >= 0; i--)
        {
            message.Append(System.Globalization.CultureInfo.InvariantCulture, $"--b{i}--\r\n");
        }
        message.Append(".\r\n");
        using var client = await ConnectAsync();

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", Encoding.ASCII.GetBytes(message.ToString()));

        Assert.That(reply, Does.StartWith("554"));
        await AssertStillAcceptsAsync(client, "after deep nesting");
    }

    [Test]
    public async Task Data_OneMegabyteHeaderField_IsRefusedAndTheGatewayStaysResponsive()
    {
        var message = "From: <sender@org.example>\r\nSubject: huge header\r\nX-Huge: " + new string('h', 1024 * 1024) + "\r\n\r\nbody\r\n.\r\n";
        using var client = await ConnectAsync();

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", Encoding.ASCII.GetBytes(message));

        Assert.That(reply, Does.StartWith("552"));
        Assert.That(RawSmtpTransaction.FilesIn(TemporarySpool), Is.Empty);
        await AssertStillAcceptsAsync(client, "after the huge header");
    }

    [Test]
    public async Task Data_TwentyThousandParts_IsRefusedAndTheGatewayStaysResponsive()
    {
        var message = new StringBuilder("From: <sender@org.example>\r\nSubject: many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n");
        for (var i = 0; i < 20_000; i++)
        {
            message.Append("--p\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        message.Append("--p--\r\n.\r\n");
        using var client = await ConnectAsync();
        var watch = Stopwatch.StartNew();

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", Encoding.ASCII.GetBytes(message.ToString()));

        Assert.That(reply, Does.StartWith("554"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "answered promptly");
        await AssertStillAcceptsAsync(client, "after many parts");
    }

    [Test]
    public async Task Data_BodyWithOneTwoMegabyteLine_IsAcceptedAndRelayedIntact()
    {
        var line = string.Concat(Enumerable.Repeat("0123456789abcdef", 2 * 1024 * 1024 / 16));
        var message = "From: <sender@org.example>\r\nTo: <rita@elsewhere.example>\r\nSubject: long line\r\n\r\n" + line + "\r\n.\r\n";
        using var client = await ConnectAsync();

        var reply = await client.SendDataAsync("sender@org.example", "rita@elsewhere.example", Encoding.ASCII.GetBytes(message));

        Assert.That(reply, Does.StartWith("250"));
        var messages = await SettledMessagesAsync(1);
        Assert.That(messages, Has.Count.EqualTo(1));
        Assert.That(Text(messages[0]), Does.EndWith("Subject: long line\r\n\r\n" + line + "\r\n"), "the body is relayed byte for byte");
        NextHop.Messages.Clear();
        await AssertStillAcceptsAsync(client, "after the long line");
    }
}
