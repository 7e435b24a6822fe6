using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Vault.Storage;

/// <summary>Blob storage per region (docs/rules.md property 8): a message is stored in its sender organisation's region.</summary>
public interface IBlobStore
{
    /// <summary>The regions this store serves.</summary>
    IReadOnlyCollection<string> Regions { get; }

    /// <summary>Writes a blob durably (temporary name, fsync, rename); an existing blob of that name is replaced.</summary>
    Task WriteAsync(string region, string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken);

    /// <summary>Opens a blob for reading (seekable).</summary>
    Stream OpenRead(string region, string name);

    /// <summary>Overwrites a blob's bytes, then removes it (docs/rules.md property 7). A missing blob is not an error.</summary>
    Task SecureDeleteAsync(string region, string name, CancellationToken cancellationToken);
}

/// <summary>Configuration section <c>Storage</c>: which regions exist and where their blobs live.</summary>
public sealed class BlobStorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    /// <summary>The region of private accounts and of organisations that did not choose one.</summary>
    [Required]
    public string DefaultRegion { get; set; } = "se";

    /// <summary>Region name → folder; an empty folder means <c>vault/&lt;region&gt;</c> in the data folder.</summary>
    public Dictionary<string, string> Regions { get; set; } = new(StringComparer.OrdinalIgnoreCase) { ["se"] = "", ["de"] = "", ["us"] = "" };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Regions.ContainsKey(DefaultRegion))
        {
            yield return new ValidationResult($"Storage:DefaultRegion '{DefaultRegion}' is not one of Storage:Regions.", [nameof(DefaultRegion)]);
        }
        foreach (var region in Regions.Keys)
        {
            if (region.Length is < 2 or > 16 || !region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                yield return new ValidationResult($"Storage:Regions has an invalid region name '{region}' (lower-case letters, digits, '-').", [nameof(Regions)]);
            }
        }
    }
}

/// <summary>A folder per region on the local disk (the embedded default).</summary>
public sealed class FolderBlobStore(IOptions<BlobStorageOptions> options, IOptions<VaultOptions> vault) : IBlobStore
{
    private readonly Dictionary<string, string> _roots = options.Value.Regions.ToDictionary(
        r => r.Key,
        r => string.IsNullOrWhiteSpace(r.Value) ? Path.Combine(vault.Value.DataPath, "vault", r.Key) : Path.GetFullPath(r.Value),
        StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<string> Regions => _roots.Keys;

    public Task WriteAsync(string region, string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        DurableFile.WriteAsync(PathOf(region, name), write, cancellationToken);

    public Stream OpenRead(string region, string name) =>
        new FileStream(PathOf(region, name), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public async Task SecureDeleteAsync(string region, string name, CancellationToken cancellationToken)
    {
        var path = PathOf(region, name);
        if (!File.Exists(path))
        {
            return;
        }
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
        {
            var zeros = new byte[64 * 1024];
            var remaining = stream.Length;
            while (remaining > 0)
            {
                var count = (int)Math.Min(zeros.Length, remaining);
                await stream.WriteAsync(zeros.AsMemory(0, count), cancellationToken);
                remaining -= count;
            }
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        File.Delete(path);
        DurableFile.SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>The file of a blob: two levels of fan-out keep folders small.</summary>
    public string PathOf(string region, string name)
    {
        if (!_roots.TryGetValue(region, out var root))
        {
            throw new ArgumentException($"Unknown storage region '{region}'.", nameof(region));
        }
        if (name.Length < 8 || !name.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException("Blob names are letters and digits only.", nameof(name));
        }
        return Path.Combine(root, name[..2], name[2..4], name);
    }
}
