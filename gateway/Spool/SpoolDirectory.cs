using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SecureMailbox.Vault.Storage;

namespace SecureMailbox.Gateway.Spool;

/// <summary>
/// The spool: <c>tmp/</c> holds messages being received, <c>new/</c> messages that were fsync'd and
/// answered with 250. A spool entry is one file: the message bytes, then the envelope as JSON, then the
/// JSON's length and a magic trailer, so a single fsync and rename make the whole entry durable.
/// </summary>
public sealed class SpoolDirectory
{
    private static readonly byte[] Magic = "SMBXSPL1"u8.ToArray();

    public SpoolDirectory(IOptions<VaultOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Root = Path.Combine(options.Value.DataPath, "spool");
        TemporaryDirectory = Path.Combine(Root, "tmp");
        ReadyDirectory = Path.Combine(Root, "new");
        CorruptDirectory = Path.Combine(Root, "corrupt");
        Directory.CreateDirectory(TemporaryDirectory);
        Directory.CreateDirectory(ReadyDirectory);
    }

    public string Root { get; }

    public string TemporaryDirectory { get; }

    public string ReadyDirectory { get; }

    public string CorruptDirectory { get; }

    /// <summary>A new spool id: time-ordered and unique across instances.</summary>
    public static string NewId() => $"{DateTime.UtcNow:yyyyMMddHHmmssfff}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";

    public string TemporaryPathOf(string id) => Path.Combine(TemporaryDirectory, id);

    public string ReadyPathOf(string id) => Path.Combine(ReadyDirectory, id);

    /// <summary>Appends the envelope, fsyncs the file and renames it into <c>new/</c> durably (docs/rules.md D1).</summary>
    public static async Task CommitAsync(FileStream file, SpoolEnvelope envelope, string readyPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        var json = JsonSerializer.SerializeToUtf8Bytes(envelope, SpoolJson.Default.SpoolEnvelope);
        file.Seek(envelope.MessageLength, SeekOrigin.Begin);
        await file.WriteAsync(json, cancellationToken);
        await file.WriteAsync(BitConverter.GetBytes((long)json.Length), cancellationToken);
        await file.WriteAsync(Magic, cancellationToken);
        await file.FlushAsync(cancellationToken);
        file.Flush(flushToDisk: true);
        var temporaryPath = file.Name;
        await file.DisposeAsync();
        File.Move(temporaryPath, readyPath);
        DurableFile.SyncDirectory(Path.GetDirectoryName(readyPath)!);
    }

    /// <summary>Reads the envelope of a committed spool entry.</summary>
    public static SpoolEnvelope ReadEnvelope(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (file.Length < 16)
        {
            throw new InvalidDataException("Spool entry too short.");
        }
        Span<byte> tail = stackalloc byte[16];
        file.Seek(-16, SeekOrigin.End);
        file.ReadExactly(tail);
        if (!tail[8..].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Spool entry has no envelope trailer.");
        }
        var length = BitConverter.ToInt64(tail[..8]);
        if (length <= 0 || length > file.Length - 16 || length > 16 * 1024 * 1024)
        {
            throw new InvalidDataException("Spool entry envelope length is invalid.");
        }
        var json = new byte[length];
        file.Seek(-16 - length, SeekOrigin.End);
        file.ReadExactly(json);
        var envelope = JsonSerializer.Deserialize(json, SpoolJson.Default.SpoolEnvelope) ?? throw new InvalidDataException("Empty envelope.");
        if (envelope.MessageLength != file.Length - 16 - length)
        {
            throw new InvalidDataException("Spool entry length does not match its envelope.");
        }
        return envelope;
    }

    /// <summary>At start: entries still in <c>tmp/</c> were never acknowledged, so they are discarded (D2).</summary>
    public int DiscardPartialEntries()
    {
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(TemporaryDirectory))
        {
            DurableFile.TryDelete(file);
            count++;
        }
        return count;
    }

    /// <summary>Committed entries, oldest first.</summary>
    public IReadOnlyList<string> ReadyEntries(int max) =>
        Directory.EnumerateFiles(ReadyDirectory).Order(StringComparer.Ordinal).Take(max).ToList();

    /// <summary>Moves an entry that cannot be read aside for an operator, rather than losing or looping on it.</summary>
    public void Quarantine(string path)
    {
        Directory.CreateDirectory(CorruptDirectory);
        File.Move(path, Path.Combine(CorruptDirectory, Path.GetFileName(path)), overwrite: true);
        DurableFile.SyncDirectory(CorruptDirectory);
    }
}
