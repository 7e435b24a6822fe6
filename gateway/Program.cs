using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Gateway;
using SecureMailbox.Gateway.Admin;
using SecureMailbox.Gateway.Smtp;

// Exit codes (docs/operators.md): 0 stopped normally, 1 unexpected failure, 2 bad command line,
// 3 configuration error, 4 the SMTP address or port cannot be bound.
var command = CommandLine.Parse(args);
if (command.Error is not null)
{
    await Console.Error.WriteLineAsync($"SecureMailbox.Gateway: {command.Error}");
    await Console.Error.WriteLineAsync(CommandLine.Usage);
    return CommandLine.ExitUsage;
}
if (command.Help)
{
    await Console.Out.WriteLineAsync(CommandLine.Usage);
    return 0;
}
if (command.Version)
{
    await Console.Out.WriteLineAsync($"SecureMailbox.Gateway {CommandLine.ProductVersion}");
    return 0;
}
try
{
    var builder = GatewayHost.CreateBuilder(command.HostArguments);
    using var host = builder.Build();
    // Checked before the host starts, which would log each failure with a stack trace first.
    host.Services.GetService<IStartupValidator>()?.Validate();
    if (command.Operator.Length > 0)
    {
        return await QueueCommand.RunAsync(command.Operator, host.Services, Console.Out, CancellationToken.None);
    }
    try
    {
        host.Services.GetRequiredService<SmtpListener>().Bind();
    }
    catch (ListenFailedException exception)
    {
        host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecureMailbox.Gateway").LogCritical("{Reason}", exception.Message);
        return CommandLine.ExitListen;
    }
    await host.RunAsync();
    return 0;
}
catch (OptionsValidationException exception)
{
    // One line that names the setting; a stack trace would only hide it.
    await Console.Error.WriteLineAsync($"SecureMailbox.Gateway: configuration error: {string.Join(" ", exception.Failures)}");
    return CommandLine.ExitConfiguration;
}
catch (ListenFailedException exception)
{
    await Console.Error.WriteLineAsync($"SecureMailbox.Gateway: {exception.Message}");
    return CommandLine.ExitListen;
}
catch (InvalidDataException exception) when (exception.Source == "Microsoft.Extensions.Configuration.Json")
{
    await Console.Error.WriteLineAsync($"SecureMailbox.Gateway: configuration error: {exception.Message}");
    return CommandLine.ExitConfiguration;
}
catch (AggregateException exception) when (exception.InnerExceptions.All(e => e is OptionsValidationException))
{
    var failures = exception.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures);
    await Console.Error.WriteLineAsync($"SecureMailbox.Gateway: configuration error: {string.Join(" ", failures)}");
    return CommandLine.ExitConfiguration;
}
catch (Exception exception)
{
    await Console.Error.WriteLineAsync($"SecureMailbox.Gateway: unexpected failure: {exception}");
    return 1;
}
