using SecureMailbox.Gateway;
using SecureMailbox.Gateway.Admin;

var builder = GatewayHost.CreateBuilder(QueueCommand.IsCommand(args) ? [] : args);
using var host = builder.Build();
if (QueueCommand.IsCommand(args))
{
    return await QueueCommand.RunAsync(args, host.Services, Console.Out, CancellationToken.None);
}
await host.RunAsync();
return 0;
