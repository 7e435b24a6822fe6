namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// The base64 of the age header: standard alphabet, no padding, canonical (age v1 spec, "Conventions":
/// "Base64 ... without padding ... decoders MUST reject non-canonical encodings").
/// </summary>
internal static class AgeBase64
{
    public static string Encode(ReadOnlySpan<byte> data) => Convert.ToBase64String(data).TrimEnd('=');

    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] data)
    {
        data = [];
        if (text.Length % 4 == 1)
        {
            return false;
        }

        foreach (var c in text)
        {
            // Convert.FromBase64String skips whitespace and accepts '='; age accepts neither.
            if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '+' or '/'))
            {
                return false;
            }
        }

        var padded = new string(text) + new string('=', (4 - (text.Length % 4)) % 4);
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            return false;
        }

        // Unused low bits of the last character must be zero; re-encoding is the simplest exact check.
        if (!Encode(decoded).AsSpan().SequenceEqual(text))
        {
            return false;
        }

        data = decoded;
        return true;
    }

    public static byte[] Decode(ReadOnlySpan<char> text, string what) =>
        TryDecode(text, out var data) ? data : throw new AgeFormatException($"The {what} is not canonical unpadded base64.");
}
