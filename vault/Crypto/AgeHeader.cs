using System.Security.Cryptography;
using System.Text;

namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// The header of an age v1 file (age v1 spec, "Header"): the version line, the recipient stanzas and the
/// MAC line. Parsing is strict: any deviation from the canonical encoding is an <see cref="AgeFormatException"/>.
/// </summary>
public sealed class AgeHeader
{
    internal const string VersionLine = "age-encryption.org/v1";

    // Not limits of the format but of what the vault accepts, so a hostile header cannot exhaust memory.
    internal const int MaxHeaderBytes = 1 << 20;
    internal const int MaxLineBytes = 8192;

    // Every X25519 stanza costs a scalar multiplication before the MAC can be checked, and age v1 sets no
    // upper bound; a message of the vault never has anywhere near this many recipients.
    internal const int MaxStanzas = 1024;

    private static readonly byte[] s_macInfo = Encoding.ASCII.GetBytes("header");

    private readonly byte[] _macInput;
    private readonly byte[] _mac;

    private AgeHeader(IReadOnlyList<AgeStanza> stanzas, byte[] macInput, byte[] mac)
    {
        Stanzas = stanzas;
        _macInput = macInput;
        _mac = mac;
    }

    /// <summary>The recipient stanzas, in file order.</summary>
    public IReadOnlyList<AgeStanza> Stanzas { get; }

    /// <summary>Writes a complete header for <paramref name="stanzas"/>, MAC'd with <paramref name="fileKey"/>.</summary>
    public static byte[] Write(IReadOnlyList<AgeStanza> stanzas, AgeFileKey fileKey)
    {
        ArgumentNullException.ThrowIfNull(stanzas);
        ArgumentNullException.ThrowIfNull(fileKey);
        if (stanzas.Count == 0)
        {
            throw new ArgumentException("An age header needs at least one stanza.", nameof(stanzas));
        }

        var builder = new StringBuilder();
        builder.Append(VersionLine).Append('\n');
        foreach (var stanza in stanzas)
        {
            stanza.AppendTo(builder);
        }

        builder.Append("---");
        var macInput = Encoding.ASCII.GetBytes(builder.ToString());
        var mac = ComputeMac(fileKey, macInput);
        builder.Append(' ').Append(AgeBase64.Encode(mac)).Append('\n');
        return Encoding.ASCII.GetBytes(builder.ToString());
    }

    /// <summary>Reads exactly the header from <paramref name="input"/>, leaving it positioned at the payload.</summary>
    public static AgeHeader Parse(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var parser = new Parser();
        AgeHeader? header;

        // Byte by byte, because reading ahead would consume payload bytes the caller needs.
        do
        {
            var b = input.ReadByte();
            if (b < 0)
            {
                throw new AgeFormatException("The age header is truncated.");
            }

            header = parser.Feed((byte)b);
        }
        while (header is null);

        return header;
    }

    /// <summary>Asynchronous <see cref="Parse(Stream)"/>.</summary>
    public static async Task<AgeHeader> ParseAsync(Stream input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var parser = new Parser();
        var buffer = new byte[1];
        AgeHeader? header;
        do
        {
            if (await input.ReadAsync(buffer, cancellationToken) == 0)
            {
                throw new AgeFormatException("The age header is truncated.");
            }

            header = parser.Feed(buffer[0]);
        }
        while (header is null);

        return header;
    }

    /// <summary>
    /// Finds the stanza that <paramref name="identity"/> unwraps and verifies the header MAC with the file key.
    /// Throws <see cref="AgeFormatException"/> for a malformed X25519 stanza and
    /// <see cref="AgeDecryptionException"/> when no stanza matches or the MAC is wrong.
    /// </summary>
    public AgeFileKey UnwrapFileKey(AgeIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);

        // age v1, "The scrypt recipient type": an scrypt stanza must be the only one.
        if (Stanzas.Count > 1 && Stanzas.Any(s => s.Type == "scrypt"))
        {
            throw new AgeFormatException("An scrypt stanza must be the only stanza of the header.");
        }

        foreach (var stanza in Stanzas)
        {
            if (!X25519Stanza.TryUnwrap(stanza, identity, out var fileKey))
            {
                continue;
            }

            if (!VerifyMac(fileKey!))
            {
                fileKey!.Dispose();
                throw new AgeDecryptionException(AgeDecryptionFailure.HeaderMacMismatch, "The age header MAC is wrong: the header was altered.");
            }

            return fileKey!;
        }

        throw new AgeDecryptionException(AgeDecryptionFailure.NoMatchingIdentity, "No stanza of the age header is for this identity.");
    }

    /// <summary>True when the header MAC verifies under <paramref name="fileKey"/>.</summary>
    public bool VerifyMac(AgeFileKey fileKey)
    {
        ArgumentNullException.ThrowIfNull(fileKey);
        return CryptographicOperations.FixedTimeEquals(ComputeMac(fileKey, _macInput), _mac);
    }

    private static byte[] ComputeMac(AgeFileKey fileKey, ReadOnlySpan<byte> macInput)
    {
        Span<byte> macKey = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, fileKey.Span, macKey, [], s_macInfo);
            return HMACSHA256.HashData(macKey, macInput);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(macKey);
        }
    }

    /// <summary>Consumes header bytes one at a time and validates each line as soon as it ends.</summary>
    private sealed class Parser
    {
        private readonly List<byte> _raw = [];
        private readonly List<byte> _line = [];
        private readonly List<AgeStanza> _stanzas = [];
        private readonly StanzaLineParser _stanza = new();
        private bool _versionSeen;

        public AgeHeader? Feed(byte b)
        {
            if (_raw.Count >= MaxHeaderBytes)
            {
                throw new AgeFormatException("The age header is larger than the vault accepts.");
            }

            _raw.Add(b);
            if (b != (byte)'\n')
            {
                _line.Add(b);
                if (_line.Count > (_stanza.InStanza ? StanzaLineParser.BodyColumns : MaxLineBytes))
                {
                    throw new AgeFormatException("An age header line is too long.");
                }

                return null;
            }

            var line = _line.ToArray();
            var lineStart = _raw.Count - line.Length - 1;
            _line.Clear();
            return ProcessLine(line, lineStart);
        }

        private AgeHeader? ProcessLine(byte[] line, int lineStart)
        {
            if (!_versionSeen)
            {
                if (!line.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(VersionLine)))
                {
                    throw new AgeFormatException("Not an age v1 file (unknown version line).");
                }

                _versionSeen = true;
                return null;
            }

            if (_stanza.InStanza)
            {
                var stanza = _stanza.AddBodyLine(line);
                if (stanza is not null)
                {
                    _stanzas.Add(stanza);
                }

                return null;
            }

            if (line.AsSpan().StartsWith("---"u8))
            {
                return ParseMacLine(line, lineStart);
            }

            if (line.AsSpan().StartsWith("->"u8))
            {
                if (_stanzas.Count >= MaxStanzas)
                {
                    throw new AgeFormatException($"The age header has more than {MaxStanzas} stanzas.");
                }

                _stanza.BeginStanza(line);
                return null;
            }

            throw new AgeFormatException("Unexpected line in the age header.");
        }

        private AgeHeader ParseMacLine(byte[] line, int lineStart)
        {
            // Exactly "--- " and the 43-character MAC: no extra or trailing spaces (age v1, "Header").
            if (line.Length < 4 || line[3] != (byte)' ' || line.AsSpan().ContainsAnyExceptInRange((byte)32, (byte)126))
            {
                throw new AgeFormatException("Malformed age header MAC line.");
            }

            var encoded = Encoding.ASCII.GetString(line, 4, line.Length - 4);
            var mac = AgeBase64.Decode(encoded, "header MAC");
            if (mac.Length != 32)
            {
                throw new AgeFormatException("The age header MAC is not 32 bytes.");
            }

            var macInput = _raw.GetRange(0, lineStart + 3).ToArray();
            return new AgeHeader(_stanzas.AsReadOnly(), macInput, mac);
        }
    }
}
