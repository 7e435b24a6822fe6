using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using SecureMailbox.Portal.Tests.Addin;

namespace SecureMailbox.Portal.Tests.Support;

/// <summary>
/// The real gateway and the real portal as separate processes on one data folder (the built Debug dlls), the way
/// run.sh starts them: SMTP on a free loopback port, the portal on plain http on loopback.
/// </summary>
public sealed partial class RealServices : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly StringBuilder _output = new();

    public TempDirectory Data { get; } = new();

    public int SmtpPort { get; } = FreePort();

    public int HttpPort { get; } = FreePort();

    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";

    public string PickupFolder => Path.Combine(Data.Path, "pickup");

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

    public static async Task<RealServices> StartAsync()
    {
        var services = new RealServices();
        var root = AddinEndpointsTests.RepositoryRoot();
        var gatewayDll = Path.Combine(root, "gateway", "bin", "Debug", "net10.0", "SecureMailbox.Gateway.dll");
        var portalDll = Path.Combine(root, "portal", "bin", "Debug", "net10.0", "SecureMailbox.Portal.dll");
        foreach (var dll in new[] { gatewayDll, portalDll })
        {
            if (!File.Exists(dll))
            {
                Assert.Fail($"{dll} is missing: build the solution in Debug first (test.sh does).");
            }
        }
        var environment = new Dictionary<string, string>
        {
            ["Vault__DataDirectory"] = services.Data.Path,
            ["Smtp__ListenAddress"] = "127.0.0.1",
            ["Smtp__Port"] = services.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Delivery__Mode"] = "Pickup",
            ["Queue__PollInterval"] = "00:00:00.200",
            ["Organisations__0__Name"] = "Region Test",
            ["Organisations__0__Domains__0"] = "org.example",
            ["Portal__BaseUrl"] = services.BaseUrl,
            ["Mailbox__MaxReplyBytesBasic"] = (40 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        services.Start("gateway", gatewayDll, [], Path.Combine(root, "gateway"), environment);
        await services.WaitAsync(async () =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, services.SmtpPort);
            return true;
        }, "the gateway's SMTP port");
        services.Start("portal", portalDll, ["--contentRoot", Path.Combine(root, "portal"), "--urls", services.BaseUrl], root, environment);
        await services.WaitAsync(async () =>
        {
            using var http = new HttpClient();
            return (await http.GetAsync(new Uri(services.BaseUrl + "/health"))).IsSuccessStatusCode;
        }, "the portal's /health");
        return services;
    }

    private void Start(string name, string dll, string[] arguments, string workingDirectory, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(name, e.Data);
        process.ErrorDataReceived += (_, e) => Append(name, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private void Append(string name, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.Append(name).Append(": ").AppendLine(line);
        }
    }

    public async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.Any(p => p.HasExited))
            {
                Assert.Fail($"A service stopped while waiting for {what}:\n{Output}");
            }
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is SocketException or HttpRequestException or IOException)
            {
            }
            await Task.Delay(200);
        }
        Assert.Fail($"Timed out waiting for {what}:\n{Output}");
    }

    /// <summary>Pickup .eml files addressed to <paramref name="address"/>, parsed.</summary>
    public List<(string File, MimeMessage Message)> PickedUpFor(string address)
    {
        if (!Directory.Exists(PickupFolder))
        {
            return [];
        }
        var found = new List<(string, MimeMessage)>();
        foreach (var file in Directory.GetFiles(PickupFolder, "*.eml").Order(StringComparer.Ordinal))
        {
            var message = MimeMessage.Load(file);
            if (message.To.Mailboxes.Any(m => string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase)))
            {
                found.Add((file, message));
            }
        }
        return found;
    }

    public string? LinkTokenIn(MimeMessage notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var match = Regex.Match(notification.TextBody ?? "", Regex.Escape(BaseUrl) + "/l/([A-Za-z0-9_-]{43})");
        return match.Success ? match.Groups[1].Value : null;
    }

    public string LatestSmsCode()
    {
        var file = new DirectoryInfo(Path.Combine(Data.Path, "sms-outbox")).GetFiles("*.txt").OrderBy(f => f.Name, StringComparer.Ordinal).Last();
        return SixDigits().Match(File.ReadAllText(file.FullName)).Value;
    }

    [GeneratedRegex(@"\b\d{6}\b")]
    private static partial Regex SixDigits();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        Data.Dispose();
    }
}
