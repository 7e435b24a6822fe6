using System.Text;

namespace SecureMailbox.Vault.Crypto;

/// <summary>
/// One recipient stanza of an age header (age v1 spec, "Header"): a type, arguments and a body that
/// carries the wrapped file key. The vault stores stanzas apart from the payload, one per recipient, so a
/// recipient can be added by wrapping the file key again and a message destroyed by deleting its stanzas.
/// </summary>
public sealed class AgeStanza
{
    private readonly byte[] _body;

    /// <summary>Creates a stanza; type and arguments must be non-empty strings of printable ASCII without spaces.</summary>
    public AgeStanza(string type, IReadOnlyList<string> args, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(args);
        if (!IsValidArgument(type) || args.Any(a => !IsValidArgument(a)))
        {
            throw new AgeFormatException("A stanza type or argument is empty or has a character outside printable ASCII.");
        }

        Type = type;
        Args = [.. args];
        _body = body.ToArray();
    }

    /// <summary>The recipient type, for example <c>X25519</c>.</summary>
    public string Type { get; }

    /// <summary>The arguments after the type.</summary>
    public IReadOnlyList<string> Args { get; }

    /// <summary>The decoded body.</summary>
    public ReadOnlySpan<byte> Body => _body;

    /// <summary>
    /// Parses one stanza in its header form (<c>-&gt; type args…\n</c>, then the body lines, the last one short),
    /// exactly as <see cref="ToString"/> writes it.
    /// </summary>
    public static AgeStanza Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new StanzaLineParser();
        var lines = text.Split('\n');
        if (lines.Length < 2 || lines[^1].Length != 0)
        {
            throw new AgeFormatException("A stanza must end with a newline.");
        }

        AgeStanza? stanza = null;
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (stanza is not null)
            {
                throw new AgeFormatException("Unexpected text after the end of the stanza.");
            }

            var line = Encoding.ASCII.GetBytes(lines[i]);
            if (i == 0)
            {
                parser.BeginStanza(line);
            }
            else
            {
                stanza = parser.AddBodyLine(line);
            }
        }

        return stanza ?? throw new AgeFormatException("The stanza ends without a short body line.");
    }

    /// <summary>Parses the UTF-8 (ASCII) bytes of <see cref="ToBytes"/>.</summary>
    public static AgeStanza Parse(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b > 127)
            {
                throw new AgeFormatException("A stanza is ASCII text.");
            }
        }

        return Parse(Encoding.ASCII.GetString(bytes));
    }

    /// <summary>The header form of the stanza, ending with a newline.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        AppendTo(builder);
        return builder.ToString();
    }

    /// <summary>The ASCII bytes of <see cref="ToString"/>.</summary>
    public byte[] ToBytes() => Encoding.ASCII.GetBytes(ToString());

    internal void AppendTo(StringBuilder builder)
    {
        builder.Append("-> ").Append(Type);
        foreach (var arg in Args)
        {
            builder.Append(' ').Append(arg);
        }

        builder.Append('\n');
        var encoded = AgeBase64.Encode(_body);

        // Body lines are 64 columns; the last one is always shorter, even empty (age v1 spec, "Header").
        for (var offset = 0; ; offset += StanzaLineParser.BodyColumns)
        {
            var length = Math.Min(StanzaLineParser.BodyColumns, encoded.Length - offset);
            builder.Append(encoded, offset, length).Append('\n');
            if (length < StanzaLineParser.BodyColumns)
            {
                break;
            }
        }
    }

    internal static bool IsValidArgument(string value) => value.Length > 0 && value.All(c => c is >= (char)33 and <= (char)126);
}

/// <summary>Parses a stanza line by line, as both the header parser and <see cref="AgeStanza.Parse(string)"/> need.</summary>
internal sealed class StanzaLineParser
{
    public const int BodyColumns = 64;

    private readonly List<byte> _body = [];
    private string? _type;
    private string[] _args = [];

    public bool InStanza => _type is not null;

    public void BeginStanza(ReadOnlySpan<byte> line)
    {
        if (line.ContainsAnyExceptInRange((byte)32, (byte)126))
        {
            throw new AgeFormatException("A stanza line has a character outside printable ASCII.");
        }

        var parts = Encoding.ASCII.GetString(line).Split(' ');
        if (parts[0] != "->" || parts.Length < 2)
        {
            throw new AgeFormatException("Malformed stanza line.");
        }

        // Each argument is a non-empty string of printable ASCII, separated by single spaces (age v1, "Header").
        for (var i = 1; i < parts.Length; i++)
        {
            if (!AgeStanza.IsValidArgument(parts[i]))
            {
                throw new AgeFormatException("A stanza argument is empty or has an invalid character.");
            }
        }

        _type = parts[1];
        _args = parts[2..];
        _body.Clear();
    }

    /// <summary>Adds one body line; returns the stanza when this (short) line ends it.</summary>
    public AgeStanza? AddBodyLine(ReadOnlySpan<byte> line)
    {
        if (_type is null)
        {
            throw new InvalidOperationException("No stanza started.");
        }

        if (line.Length > BodyColumns)
        {
            throw new AgeFormatException("A stanza body line is longer than 64 columns.");
        }

        if (line.ContainsAnyExceptInRange((byte)32, (byte)126))
        {
            throw new AgeFormatException("A stanza body line has an invalid character.");
        }

        var decoded = AgeBase64.Decode(Encoding.ASCII.GetString(line), "stanza body");
        _body.AddRange(decoded);
        if (line.Length == BodyColumns)
        {
            return null;
        }

        var stanza = new AgeStanza(_type, _args, [.. _body]);
        _type = null;
        _body.Clear();
        return stanza;
    }
}
