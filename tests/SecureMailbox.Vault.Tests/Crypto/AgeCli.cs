using System.Diagnostics;

namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>Runs the real <c>age</c> and <c>age-keygen</c> tools (Debian package <c>age</c>).</summary>
internal static class AgeCli
{
    public static string Find(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"The '{tool}' command was not found on PATH. Install the age tool (Debian/Ubuntu: apt-get install age); CI installs it.");
        throw new InvalidOperationException("unreachable");
    }

    public static async Task<string> RunAsync(string tool, params string[] arguments) =>
        System.Text.Encoding.UTF8.GetString(await RunForBytesAsync(tool, arguments));

    public static async Task<byte[]> RunForBytesAsync(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(Find(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        using var stdoutBuffer = new MemoryStream();
        var stdout = process.StandardOutput.BaseStream.CopyToAsync(stdoutBuffer);
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.That(process.ExitCode, Is.Zero, $"{tool} {string.Join(' ', arguments)} failed: {await stderr}");
        await stdout;
        return stdoutBuffer.ToArray();
    }
}
