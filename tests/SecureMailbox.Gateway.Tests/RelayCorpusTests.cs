using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>
/// Exact relay over a corpus of real-world-like messages (TestData/Relay: nested and empty parts, odd and
/// unclosed boundaries, preamble and epilogue, 8-bit bodies, long and folded headers, lines over 998 characters):
/// each is sent byte by byte, and the next hop must get exactly those bytes with only the gateway's Received header
/// in front and its private X-SecureMailbox lines gone.
/// </summary>
[TestFixture]
public sealed partial class RelayCorpusTests : GatewayFixture
{
    private static int _sequence;

    public static IEnumerable<string> Corpus() =>
        Directory.GetFiles(Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "Relay"), "*.eml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    [Test]
    public void Corpus_HasAtLeastFortyMessages() => Assert.That(Corpus().Count(), Is.GreaterThanOrEqualTo(40));

    [TestCaseSource(nameof(Corpus))]
    public async Task Relay_CorpusMessage_ArrivesByteForByte(string file)
    {
        var original = await File.ReadAllBytesAsync(Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "Relay", file));

        var received = await RelayAsync(original);

        var (trace, rest) = SplitOffFirstField(received.Data);
        Assert.That(Encoding.ASCII.GetString(trace), Does.StartWith("Received: from ").And.Contain("by gateway.test (SecureMailbox)"));
        Assert.That(rest, Is.EqualTo(Expected(original)), $"{file}: the relayed bytes differ from the received ones");
    }

    [TestCase("07-nested-multipart.eml", DkimCanonicalizationAlgorithm.Simple)]
    [TestCase("04-empty-part.eml", DkimCanonicalizationAlgorithm.Simple)]
    [TestCase("06-preamble-epilogue.eml", DkimCanonicalizationAlgorithm.Relaxed)]
    [TestCase("02-plain-utf8-8bit.eml", DkimCanonicalizationAlgorithm.Simple)]
    [TestCase("35-signed-multipart.eml", DkimCanonicalizationAlgorithm.Simple)]
    public async Task Relay_DkimSignedCorpusMessage_SignatureStillVerifies(string file, DkimCanonicalizationAlgorithm body)
    {
        using var rsa = RSA.Create(2048);
        var keys = DotNetUtilities.GetRsaKeyPair(rsa.ExportParameters(true));
        var signer = new DkimSigner(keys.Private, "org.example", "sel1")
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Simple,
            BodyCanonicalizationAlgorithm = body,
        };
        var bytes = await File.ReadAllBytesAsync(Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "Relay", file));
        // Signed over the exact bytes (headers as they are, body bytes unparsed): a signature over MimeKit's
        // re-serialised form would hide exactly the changes this test is for.
        using var message = ExactMessage(bytes);
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
        var signature = message.Headers.First(h => h.Id == HeaderId.DkimSignature);
        var field = Encoding.Latin1.GetString(signature.RawValue).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        var signed = Encoding.Latin1.GetBytes("DKIM-Signature:" + field).Concat(bytes).ToArray();

        var received = await RelayAsync(signed);

        using var relayed = ExactMessage(received.Data);
        var verifier = new DkimVerifier(new SinglePublicKeyLocator(keys.Public));
        Assert.That(verifier.Verify(relayed, relayed.Headers.First(h => h.Id == HeaderId.DkimSignature)), Is.True, $"{file}: DKIM verifies after relay");
    }

    /// <summary>A MimeMessage of the exact bytes: header fields with their raw values, the body unparsed.</summary>
    private static MimeMessage ExactMessage(byte[] bytes)
    {
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        var headers = HeaderList.Load(new MemoryStream(bytes[..end]));
        return new MimeMessage(headers) { Body = new RawBody(bytes[end..]) };
    }

    private sealed class RawBody : MimeEntity
    {
        private readonly byte[] _bytes;

        public RawBody(byte[] bytes)
            : base(new ContentType("application", "octet-stream"))
        {
            _bytes = bytes;
            Headers.Clear();
        }

        public override void Accept(MimeVisitor visitor)
        {
        }

        public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
        {
        }

        public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default) => stream.Write(_bytes);

        public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default) => stream.WriteAsync(_bytes, cancellationToken).AsTask();
    }

    private async Task<ReceivedMessage> RelayAsync(byte[] data)
    {
        var recipient = $"corpus{Interlocked.Increment(ref _sequence)}@elsewhere.example";
        using var client = await RawSmtpClient.ConnectAsync(Gateway.Endpoint);
        Assert.That(await client.CommandAsync("EHLO client.test"), Does.StartWith("250"));
        var reply = await client.SendDataAsync("sender@org.example", recipient, Stuff(data));
        Assert.That(reply, Does.StartWith("250"), "accepted");
        Assert.That(await RawSmtpTransaction.EventuallyAsync(() => NextHop.Messages.Any(m => m.To.Contains(recipient)), TimeSpan.FromSeconds(30)), Is.True, "relayed");
        return NextHop.Messages.Single(m => m.To.Contains(recipient));
    }

    /// <summary>Dot-stuffing (RFC 5321 §4.5.2) and the end of data; a message whose last line lacks CRLF gets one.</summary>
    private static byte[] Stuff(byte[] message)
    {
        var output = new MemoryStream();
        var lineStart = true;
        foreach (var b in message)
        {
            if (lineStart && b == '.')
            {
                output.WriteByte((byte)'.');
            }
            output.WriteByte(b);
            lineStart = b == '\n';
        }
        output.Write(lineStart ? ".\r\n"u8 : "\r\n.\r\n"u8);
        return output.ToArray();
    }

    /// <summary>What the next hop must get after the trace field: the message minus the private header fields.</summary>
    private static byte[] Expected(byte[] original)
    {
        var text = Encoding.Latin1.GetString(original);
        if (!text.EndsWith("\r\n", StringComparison.Ordinal))
        {
            text += "\r\n"; // SMTP carries whole lines only
        }
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var header = end < 0 ? text : text[..(end + 2)];
        var stripped = PrivateField().Replace(header, "");
        return Encoding.Latin1.GetBytes(stripped + (end < 0 ? "" : text[(end + 2)..]));
    }

    [GeneratedRegex(@"(?im)^x-securemailbox(-[^:\r\n]*)?:.*\r\n([ \t].*\r\n)*")]
    private static partial Regex PrivateField();

    /// <summary>Splits the first header field (with its continuation lines) from the rest.</summary>
    private static (byte[] Field, byte[] Remainder) SplitOffFirstField(byte[] data)
    {
        var position = Array.IndexOf(data, (byte)'\n') + 1;
        while (position < data.Length && data[position] is (byte)' ' or (byte)'\t')
        {
            position = Array.IndexOf(data, (byte)'\n', position) + 1;
        }
        return (data[..position], data[position..]);
    }

    private sealed class SinglePublicKeyLocator(AsymmetricKeyParameter key) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => key;

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) => Task.FromResult(key);
    }
}
