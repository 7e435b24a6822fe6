using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>
/// A minimal authoritative DNS server on 127.0.0.1 UDP (RFC 1035 wire format): answers A, AAAA and MX from its
/// dictionaries, NOERROR with no answers for a known name without that type, NXDOMAIN for unknown names, and
/// nothing at all for names in <see cref="Silent"/> (a server that does not answer).
/// </summary>
public sealed class DnsResponder : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();

    public DnsResponder()
    {
        Port = ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public ConcurrentDictionary<string, IPAddress[]> Addresses { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>MX records per domain: preference and exchange ("." for a null MX, RFC 7505).</summary>
    public ConcurrentDictionary<string, (ushort Preference, string Exchange)[]> MailExchangers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentDictionary<string, bool> Silent { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentQueue<string> Queries { get; } = new();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult request;
            try
            {
                request = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                continue;
            }
            var response = Answer(request.Buffer);
            if (response is not null)
            {
                await _udp.SendAsync(response, request.RemoteEndPoint);
            }
        }
    }

    private byte[]? Answer(byte[] query)
    {
        // Header (12 bytes), then one question: name labels, type, class.
        var position = 12;
        var labels = new List<string>();
        while (query[position] != 0)
        {
            var length = query[position];
            labels.Add(Encoding.ASCII.GetString(query, position + 1, length));
            position += length + 1;
        }
        position++;
        var name = string.Join('.', labels);
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(position));
        var questionEnd = position + 4;
        Queries.Enqueue($"{name}/{type}");
        if (Silent.ContainsKey(name))
        {
            return null;
        }
        var answers = new List<byte[]>();
        if (type == 15 && MailExchangers.TryGetValue(name, out var exchangers))
        {
            answers.AddRange(exchangers.Select(mx => Record(15, [.. BigEndian(mx.Preference), .. EncodeName(mx.Exchange)])));
        }
        if (type is 1 or 28 && Addresses.TryGetValue(name, out var addresses))
        {
            var family = type == 1 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            answers.AddRange(addresses.Where(a => a.AddressFamily == family).Select(a => Record(type, a.GetAddressBytes())));
        }
        var known = MailExchangers.ContainsKey(name) || Addresses.ContainsKey(name);
        using var response = new MemoryStream();
        response.Write(query.AsSpan(0, 2)); // id
        var rd = query[2] & 0x01;
        response.WriteByte((byte)(0x84 | rd)); // QR, AA, RD copied
        response.WriteByte((byte)(0x80 | (known ? 0 : 3))); // RA, NOERROR or NXDOMAIN
        response.Write(BigEndian(1));
        response.Write(BigEndian((ushort)answers.Count));
        response.Write(BigEndian(0));
        response.Write(BigEndian(0));
        response.Write(query.AsSpan(12, questionEnd - 12));
        foreach (var answer in answers)
        {
            response.Write(answer);
        }
        return response.ToArray();
    }

    /// <summary>One resource record whose owner is the question's name (a pointer to offset 12).</summary>
    private static byte[] Record(ushort type, byte[] data) =>
        [0xC0, 0x0C, .. BigEndian(type), .. BigEndian(1), 0, 0, 0, 60, .. BigEndian((ushort)data.Length), .. data];

    private static byte[] EncodeName(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.Trim('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }
        bytes.Add(0);
        return [.. bytes];
    }

    private static byte[] BigEndian(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        return bytes;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _stop.Dispose();
    }
}
