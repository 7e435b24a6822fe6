using System.Diagnostics;
using System.Globalization;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using SecureMailbox.Gateway.Tests.Support;

namespace SecureMailbox.Gateway.Tests;

/// <summary>
/// Durability, lease recovery and exact relay under load with real processes: 1,000 messages over 10 SMTP sessions into a gateway
/// process that is SIGKILLed three times while it receives and delivers, and started again each time on the same data
/// folder. Every message that got 250 must reach the next hop (a real SMTP server on loopback) uncorrupted within a
/// bound after the last restart; duplicates are allowed only for deliveries in flight at a kill (at most one batch
/// per kill). The figures are printed for the record.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class KillTests
{
    private const int Sessions = 10;
    private const int PerSession = 100;
    private const int BatchSize = 16;
    private static readonly int[] KillAfter = [250, 520, 830];
    private static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(120);

    [Test]
    public async Task KillNineThreeTimesUnderLoad_EveryAcceptedMessageArrivesIntactDuplicatesOnlyForInFlight()
    {
        using var data = new TempDirectory();
        await using var nextHop = new NextHopServer { StoreDelay = TimeSpan.FromMilliseconds(40) };
        await nextHop.StartAsync();
        // A next hop slower than the intake keeps a backlog, so the kills land on leased batches being delivered.
        var settings = new Dictionary<string, string> { ["Queue__BatchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture), ["Queue__Concurrency"] = "2" };
        var gateway = await GatewayProcess.StartAsync(data.Path, nextHop.Port, settings);
        var expected = new Dictionary<string, byte[]>();
        var sent = 0;
        var refusedOrCut = 0;
        var kills = 0;
        var lastRestart = Stopwatch.StartNew();
        try
        {
            for (var session = 0; session < Sessions; session++)
            {
                var left = PerSession;
                while (left > 0)
                {
                    using var client = new SmtpClient();
                    client.ServerCertificateValidationCallback = (_, _, _, _) => true;
                    await client.ConnectAsync("127.0.0.1", gateway.Port, SecureSocketOptions.None);
                    while (left > 0)
                    {
                        var number = sent++;
                        var message = RawSmtpTransaction.Message($"kill-test {number}", $"Message {number}.\r\n{new string('x', number % 700)}\r\n");
                        var bytes = Wire(message);
                        left--;
                        if (kills < KillAfter.Length && number == KillAfter[kills])
                        {
                            // Killed while this message's DATA is on its way: whatever it got was not a 250.
                            var sending = client.SendAsync(message);
                            await Task.Delay(2);
                            gateway.Kill();
                            kills++;
                            try
                            {
                                await sending;
                                expected[message.MessageId!] = bytes; // the 250 came before the kill
                            }
                            catch (Exception exception) when (exception is IOException or MailKit.ServiceNotConnectedException or SmtpProtocolException or SmtpCommandException)
                            {
                                refusedOrCut++;
                            }
                            await gateway.DisposeAsync();
                            gateway = await GatewayProcess.StartAsync(data.Path, nextHop.Port, settings);
                            lastRestart.Restart();
                            break;
                        }
                        await client.SendAsync(message);
                        expected[message.MessageId!] = bytes;
                    }
                    if (client.IsConnected)
                    {
                        await client.DisconnectAsync(true);
                    }
                }
            }

            var drained = await RawSmtpTransaction.EventuallyAsync(() => Delivered(nextHop).Keys.Count(expected.ContainsKey) == expected.Count, DrainBound);
            var drainTime = lastRestart.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(3)); // a late extra copy would show up here
            var delivered = Delivered(nextHop);
            var lost = expected.Keys.Where(id => !delivered.ContainsKey(id)).ToList();
            var duplicated = delivered.Where(d => d.Value.Count > 1).ToList();
            var corrupted = delivered.Where(d => expected.TryGetValue(d.Key, out var bytes) && d.Value.Any(copy => !copy.AsSpan().SequenceEqual(bytes))).Select(d => d.Key).ToList();
            var figures = $"kill test: sent {sent}, accepted {expected.Count}, not acknowledged (cut by a kill) {refusedOrCut}, delivered {delivered.Count(d => expected.ContainsKey(d.Key))} distinct + {delivered.Count(d => !expected.ContainsKey(d.Key))} unacknowledged, " +
                $"duplicated {duplicated.Count} (extra copies {duplicated.Sum(d => d.Value.Count - 1)}), lost {lost.Count}, corrupted {corrupted.Count}, kills {kills}, time to drain after the last restart {drainTime.TotalSeconds:0.0} s";
            await TestContext.Progress.WriteLineAsync(figures);
            var record = Environment.GetEnvironmentVariable("SMBX_KILL_FIGURES");
            if (record is not null)
            {
                await File.AppendAllTextAsync(record, figures + Environment.NewLine);
            }

            Assert.That(kills, Is.EqualTo(3));
            Assert.That(sent, Is.GreaterThanOrEqualTo(1000));
            Assert.That(drained, Is.True, figures + "\n" + gateway.Output);
            Assert.That(lost, Is.Empty, figures);
            Assert.That(corrupted, Is.Empty, figures);
            Assert.That(duplicated.Sum(d => d.Value.Count - 1), Is.LessThanOrEqualTo(kills * BatchSize), "duplicates only for what was in flight at a kill: " + figures);
            var list = await GatewayProcess.RunCommandAsync(data.Path, nextHop.Port, "queue", "list");
            Assert.That(list, Does.Contain("0 message(s) in the queue"), "nothing left, nothing held");
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }

    /// <summary>The bytes MailKit sends for the message (CRLF line endings).</summary>
    private static byte[] Wire(MimeMessage message)
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        using var stream = new MemoryStream();
        message.WriteTo(options, stream);
        return stream.ToArray();
    }

    /// <summary>Message-ID → every copy the next hop received, each without the gateway's Received field in front.</summary>
    private static Dictionary<string, List<byte[]>> Delivered(NextHopServer nextHop)
    {
        var result = new Dictionary<string, List<byte[]>>();
        foreach (var received in nextHop.Messages)
        {
            var body = WithoutFirstField(received.Data);
            var text = Encoding.Latin1.GetString(body);
            var start = text.IndexOf("Message-Id: <", StringComparison.OrdinalIgnoreCase);
            if (start < 0)
            {
                continue;
            }
            var end = text.IndexOf('>', start);
            var id = text[(start + "Message-Id: <".Length)..end];
            if (!result.TryGetValue(id, out var copies))
            {
                result[id] = copies = [];
            }
            copies.Add(body);
        }
        return result;
    }

    private static byte[] WithoutFirstField(byte[] data)
    {
        var position = Array.IndexOf(data, (byte)'\n') + 1;
        while (position < data.Length && data[position] is (byte)' ' or (byte)'\t')
        {
            position = Array.IndexOf(data, (byte)'\n', position) + 1;
        }
        return data[position..];
    }
}
