using System.Runtime.InteropServices;

namespace SecureMailbox.Vault.Storage;

/// <summary>
/// File operations that survive a crash: data is fsync'd before it is renamed into place, and the
/// directory is fsync'd after the rename so the new name itself is on disk (as Postfix's queue does).
/// </summary>
public static partial class DurableFile
{
    /// <summary>Writes a file through a temporary name, fsyncs it, renames it into place and fsyncs the directory.</summary>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await write(stream, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            SyncDirectory(directory);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Renames a file that is already fsync'd and makes the rename durable.</summary>
    public static void MoveDurably(string from, string to)
    {
        File.Move(from, to, overwrite: false);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(to))!);
        var fromDirectory = Path.GetDirectoryName(Path.GetFullPath(from))!;
        if (!string.Equals(fromDirectory, Path.GetDirectoryName(Path.GetFullPath(to)), StringComparison.Ordinal))
        {
            SyncDirectory(fromDirectory);
        }
    }

    /// <summary>fsyncs a directory so that creates, renames and deletes in it are durable (POSIX only).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return; // NTFS journals metadata; there is no directory fsync on Windows.
        }
        var fd = Open(directory, OpenReadOnly | (OperatingSystem.IsLinux() ? OpenDirectoryLinux : 0));
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory {directory} for fsync (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Deletes a file if it exists, ignoring a missing file.</summary>
    /// <summary>Overwrites a small file with zeros in place (before it is deleted), ignoring a file that is gone.</summary>
    public static void TryOverwrite(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
            var zeros = new byte[64 * 1024];
            for (var remaining = stream.Length; remaining > 0; remaining -= zeros.Length)
            {
                stream.Write(zeros, 0, (int)Math.Min(zeros.Length, remaining));
            }
            stream.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Deletes a file, ignoring one that is gone or cannot be deleted.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private const int OpenReadOnly = 0;
    private const int OpenDirectoryLinux = 0x10000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    /// <summary>
    /// From now on this process creates files owner-only (0600) and folders 0700 (umask 077): the data folder holds
    /// the database, vault blobs, queue content and keys, none of which anyone else on the machine needs to read.
    /// </summary>
    public static void CreateOwnerOnly()
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = Umask(0b000_111_111);
        }
    }
}
