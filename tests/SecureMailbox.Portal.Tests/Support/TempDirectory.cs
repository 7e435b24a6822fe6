namespace SecureMailbox.Portal.Tests.Support;

public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("smbx-portal-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        // The services keep their link secret beside (never inside) the data folder.
        File.Delete(Path + ".link-key");
    }
}
