using System.Reflection;

namespace SecureMailbox.Gateway;

/// <summary>
/// The gateway's command line: no arguments runs the service; <c>queue …</c> and <c>hash-password</c> are operator
/// commands; <c>--help</c>, <c>--version</c>; configuration overrides as <c>--Section:Key=value</c>. Anything else is
/// refused rather than ignored, so a mistyped option never starts a gateway with defaults.
/// </summary>
public sealed class CommandLine
{
    public const int ExitUsage = 2;
    public const int ExitConfiguration = 3;
    public const int ExitListen = 4;

    public const string Usage = """
        usage: SecureMailbox.Gateway [--Section:Key=value ...]       run the gateway
               SecureMailbox.Gateway queue list | show ID | retry [ID] | delete ID
               SecureMailbox.Gateway hash-password < password
               SecureMailbox.Gateway --help | --version
        exit codes: 0 stopped, 1 unexpected failure, 2 bad command line, 3 configuration error, 4 cannot listen
        """;

    private CommandLine()
    {
    }

    public bool Help { get; private init; }

    public bool Version { get; private init; }

    /// <summary>The operator command and its arguments (empty when running the service).</summary>
    public string[] Operator { get; private init; } = [];

    /// <summary>The configuration overrides passed to the host.</summary>
    public string[] HostArguments { get; private init; } = [];

    /// <summary>Why the command line is refused, or null.</summary>
    public string? Error { get; private init; }

    public static string ProductVersion =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static CommandLine Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0)
        {
            return new CommandLine();
        }
        switch (args[0])
        {
            case "--help" or "-h" or "help":
                return new CommandLine { Help = true };
            case "--version":
                return new CommandLine { Version = true };
            case "queue" or "hash-password":
                return new CommandLine { Operator = args };
        }
        var overrides = new List<string>();
        foreach (var arg in args)
        {
            // Host configuration on the command line: --Section:Key=value (the form the .NET host reads).
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=', StringComparison.Ordinal) && arg.IndexOf(':', StringComparison.Ordinal) is > 2)
            {
                overrides.Add(arg);
                continue;
            }
            return new CommandLine { Error = $"unknown argument '{arg}'" };
        }
        return new CommandLine { HostArguments = [.. overrides] };
    }
}
