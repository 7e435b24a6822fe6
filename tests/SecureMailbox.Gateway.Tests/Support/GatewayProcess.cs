using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>
/// The built gateway as a real child process (<c>dotnet SecureMailbox.Gateway.dll</c>), configured by environment
/// variables, so a test can SIGKILL it and start it again on the same data folder.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatewayProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the gateway relaying to a smarthost on 127.0.0.1 and waits for its "SMTP listening" log line.</summary>
    public static async Task<GatewayProcess> StartAsync(string dataDirectory, int nextHopPort, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = UnusedPort();
        var process = new Process { StartInfo = StartInfo(dataDirectory, nextHopPort, port) };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            process.StartInfo.Environment[key] = value;
        }
        var gateway = new GatewayProcess(process, port);
        process.OutputDataReceived += (_, e) => gateway.Append(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(gateway._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != gateway._listening.Task)
        {
            await gateway.DisposeAsync();
            throw new InvalidOperationException("The gateway process did not start listening:\n" + gateway.Output);
        }
        return gateway;
    }

    /// <summary>Runs an operator command (<c>queue list</c> …) against the same data folder; returns its output.</summary>
    public static async Task<string> RunCommandAsync(string dataDirectory, int nextHopPort, params string[] args)
    {
        var start = StartInfo(dataDirectory, nextHopPort, UnusedPort());
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return await stdout + await stderr;
    }

    /// <summary>Runs the gateway with the given arguments and settings until it exits; returns its exit code and output.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunToExitAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var start = StartInfo(dataDirectory, 25, UnusedPort());
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo StartInfo(string dataDirectory, int nextHopPort, int port)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "gateway", "bin", "Debug", "net10.0", "SecureMailbox.Gateway.dll"));
        var invariant = CultureInfo.InvariantCulture;
        start.Environment["Vault__DataDirectory"] = dataDirectory;
        start.Environment["Smtp__Port"] = port.ToString(invariant);
        start.Environment["Smtp__ServerName"] = "gateway.test";
        start.Environment["Delivery__Mode"] = "Smarthost";
        start.Environment["Delivery__SmarthostHost"] = "127.0.0.1";
        start.Environment["Delivery__SmarthostPort"] = nextHopPort.ToString(invariant);
        start.Environment["Queue__FirstRetryDelay"] = "00:00:01";
        start.Environment["Queue__MaxRetryDelay"] = "00:00:02";
        start.Environment["Queue__PollInterval"] = "00:00:00.200";
        // A short lease: the restarted process releases its dead predecessor's leases at once (same instance id); a
        // lease of another instance would free up after this.
        start.Environment["Queue__LeaseDuration"] = "00:00:06";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        return start;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        var log = Environment.GetEnvironmentVariable("SMBX_TEST_LOG");
        if (log is not null)
        {
            lock (TestContext.Progress)
            {
                File.AppendAllText(log, $"[gateway {Port}] {line}{Environment.NewLine}");
            }
        }
        if (line.Contains("SMTP listening", StringComparison.Ordinal))
        {
            _listening.TrySetResult();
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a power cut for the process.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The folder holding SecureMailbox.sln, found by walking up from the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SecureMailbox.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("SecureMailbox.sln not found above the test folder.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
