using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace SecureMailbox.Vault.Tests.Support;

/// <summary>
/// A private PostgreSQL cluster for one test fixture: initdb into a temp folder, started on a free loopback port,
/// stopped and removed at the end. Binaries come from the Debian package <c>postgresql</c>
/// (<c>/usr/lib/postgresql/&lt;version&gt;/bin</c>); without them the fixture fails, it never skips. PostgreSQL
/// refuses to run as root, so as root every server command runs as the <c>postgres</c> user.
/// (Linked into the portal tests too.)
/// </summary>
public sealed class PostgreSqlCluster : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _folder;
    private readonly int _port;

    private PostgreSqlCluster(string bin, string folder, int port)
    {
        _bin = bin;
        _folder = folder;
        _port = port;
    }

    private string DataPath => Path.Combine(_folder, "data");

    public static async Task<PostgreSqlCluster> StartAsync()
    {
        var bin = FindBinaries();
        var folder = Path.Combine(Path.GetTempPath(), "smbx-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        if (Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root")
        {
            await RunAsync("chown", ["postgres:postgres", folder], asPostgres: false);
        }
        var cluster = new PostgreSqlCluster(bin, folder, FreePort());
        try
        {
            await cluster.ServerAsync("initdb", ["-D", cluster.DataPath, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
            await cluster.ServerAsync("pg_ctl", ["-D", cluster.DataPath, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
                "-o", $"-p {cluster._port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"]);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE \"{name}\"";
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    private string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = _port, Username = "postgres", Database = database }.ToString();

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(DataPath, "postmaster.pid")))
        {
            try
            {
                await ServerAsync("pg_ctl", ["-D", DataPath, "-m", "immediate", "-w", "stop"]);
            }
            catch (InvalidOperationException)
            {
            }
        }
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string FindBinaries()
    {
        var root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            "PostgreSQL binaries not found (/usr/lib/postgresql/<version>/bin/initdb and pg_ctl): install the Debian package 'postgresql' (test.sh does so as root).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task ServerAsync(string tool, string[] arguments) =>
        RunAsync(Path.Combine(_bin, tool), arguments, asPostgres: Environment.UserName == "root");

    private static async Task RunAsync(string program, string[] arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (asPostgres)
        {
            foreach (var prefix in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(prefix);
            }
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }
}
