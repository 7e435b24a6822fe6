using System.Text;

namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// BIP 173 Bech32 as age uses it for recipients and identities (age v1 spec, "The X25519 recipient type"),
/// without BIP 173's 90-character limit.
/// </summary>
internal static class Bech32
{
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private const int MaxLength = 1024;

    public static string Encode(string hrp, ReadOnlySpan<byte> data, bool upperCase)
    {
        var lowerHrp = hrp.ToLowerInvariant();
        var values = ConvertBits(data, 8, 5, pad: true) ?? throw new InvalidOperationException("unreachable");
        var checksum = CreateChecksum(lowerHrp, values);
        var builder = new StringBuilder(lowerHrp.Length + 1 + values.Length + 6);
        builder.Append(lowerHrp).Append('1');
        foreach (var v in values)
        {
            builder.Append(Charset[v]);
        }

        foreach (var v in checksum)
        {
            builder.Append(Charset[v]);
        }

        var text = builder.ToString();
        return upperCase ? text.ToUpperInvariant() : text;
    }

    /// <summary>Decodes; the returned human-readable part keeps the input's case so callers can insist on one.</summary>
    public static (string Hrp, byte[] Data) Decode(string text)
    {
        if (text.Length > MaxLength)
        {
            throw new AgeFormatException("Bech32 string is too long.");
        }

        if (!text.Equals(text.ToLowerInvariant(), StringComparison.Ordinal) &&
            !text.Equals(text.ToUpperInvariant(), StringComparison.Ordinal))
        {
            throw new AgeFormatException("Bech32 string mixes upper and lower case.");
        }

        var separator = text.LastIndexOf('1');
        if (separator < 1 || separator + 7 > text.Length)
        {
            throw new AgeFormatException("Bech32 string has no valid separator.");
        }

        var hrp = text[..separator];
        foreach (var c in hrp)
        {
            if (c < 33 || c > 126)
            {
                throw new AgeFormatException("Bech32 human-readable part has an invalid character.");
            }
        }

        var lower = text.ToLowerInvariant();
        var values = new byte[lower.Length - separator - 1];
        for (var i = 0; i < values.Length; i++)
        {
            var index = Charset.IndexOf(lower[separator + 1 + i], StringComparison.Ordinal);
            if (index < 0)
            {
                throw new AgeFormatException("Bech32 data has an invalid character.");
            }

            values[i] = (byte)index;
        }

        if (PolyMod(ExpandHrp(hrp.ToLowerInvariant()), values) != 1)
        {
            throw new AgeFormatException("Bech32 checksum is wrong.");
        }

        var data = ConvertBits(values.AsSpan(0, values.Length - 6), 5, 8, pad: false)
            ?? throw new AgeFormatException("Bech32 data has invalid padding.");
        return (hrp, data);
    }

    private static byte[]? ConvertBits(ReadOnlySpan<byte> data, int fromBits, int toBits, bool pad)
    {
        var result = new List<byte>(data.Length * fromBits / toBits + 1);
        var accumulator = 0;
        var bits = 0;
        var maxValue = (1 << toBits) - 1;
        foreach (var value in data)
        {
            accumulator = (accumulator << fromBits) | value;
            bits += fromBits;
            while (bits >= toBits)
            {
                bits -= toBits;
                result.Add((byte)((accumulator >> bits) & maxValue));
            }
        }

        if (pad)
        {
            if (bits > 0)
            {
                result.Add((byte)((accumulator << (toBits - bits)) & maxValue));
            }
        }
        else if (bits >= fromBits || ((accumulator << (toBits - bits)) & maxValue) != 0)
        {
            return null;
        }

        return [.. result];
    }

    private static byte[] ExpandHrp(string hrp)
    {
        var result = new byte[(hrp.Length * 2) + 1];
        for (var i = 0; i < hrp.Length; i++)
        {
            result[i] = (byte)(hrp[i] >> 5);
            result[i + hrp.Length + 1] = (byte)(hrp[i] & 31);
        }

        return result;
    }

    private static uint PolyMod(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        uint checksum = 1;
        Step(first, ref checksum);
        Step(second, ref checksum);
        return checksum;

        static void Step(ReadOnlySpan<byte> values, ref uint checksum)
        {
            ReadOnlySpan<uint> generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
            foreach (var value in values)
            {
                var top = checksum >> 25;
                checksum = ((checksum & 0x1ffffff) << 5) ^ value;
                for (var i = 0; i < 5; i++)
                {
                    if (((top >> i) & 1) != 0)
                    {
                        checksum ^= generator[i];
                    }
                }
            }
        }
    }

    private static byte[] CreateChecksum(string hrp, byte[] values)
    {
        var expanded = ExpandHrp(hrp);
        var withZeros = new byte[values.Length + 6];
        values.CopyTo(withZeros, 0);
        var polyMod = PolyMod(expanded, withZeros) ^ 1;
        var checksum = new byte[6];
        for (var i = 0; i < 6; i++)
        {
            checksum[i] = (byte)((polyMod >> (5 * (5 - i))) & 31);
        }

        return checksum;
    }
}
