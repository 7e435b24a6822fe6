using Microsoft.Extensions.DependencyInjection;
using SecureMailbox.Gateway.Smtp;
using SecureMailbox.Vault.Data;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Gateway.Admin;

/// <summary>
/// Operator commands, in the spirit of Postfix's postqueue/postsuper:
/// <c>queue list</c>, <c>queue show ID</c>, <c>queue retry [ID]</c>, <c>queue delete ID</c>, and
/// <c>hash-password</c> (reads a password on standard input and prints a hash for Smtp:Users).
/// </summary>
public static class QueueCommand
{
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "queue" or "hash-password";

    public static async Task<int> RunAsync(string[] args, IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args[0] == "hash-password")
        {
            var password = await Console.In.ReadLineAsync(cancellationToken);
            if (string.IsNullOrEmpty(password))
            {
                await output.WriteLineAsync("hash-password: give the password on standard input");
                return 2;
            }
            await output.WriteLineAsync(PasswordHash.Create(password));
            return 0;
        }
        foreach (var hosted in services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<IHostedService>().Where(s => s.GetType().Name == "DatabaseMigrator"))
        {
            await hosted.StartAsync(cancellationToken);
        }
        var queue = services.GetRequiredService<OutboundQueue>();
        var verb = args.Length > 1 ? args[1] : "list";
        var id = args.Length > 2 ? args[2] : null;
        switch (verb)
        {
            case "list":
                var items = await queue.ListAsync(cancellationToken);
                var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
                await output.WriteLineAsync($"{"ID",-32} {"KIND",-12} {"SIZE",10} {"ATTEMPTS",8} {"NEXT ATTEMPT (UTC)",-20} SENDER");
                foreach (var item in items)
                {
                    await output.WriteLineAsync($"{item.Id,-32} {item.Kind,-12} {item.ContentLength,10} {item.Attempts,8} {item.NextAttemptAt:yyyy-MM-dd HH:mm:ss} <{item.EnvelopeFrom}>");
                    await output.WriteLineAsync($"    {State(item, now)}");
                    foreach (var recipient in item.Recipients.Where(r => r.State == RecipientState.Pending))
                    {
                        await output.WriteLineAsync($"    <{recipient.Address}> {recipient.LastResponse}");
                    }
                }
                await output.WriteLineAsync($"{items.Count} message(s) in the queue");
                return 0;
            case "show" when id is not null:
                var found = await queue.FindAsync(id, cancellationToken);
                if (found is null)
                {
                    await output.WriteLineAsync($"queue: no item {id}");
                    return 1;
                }
                await output.WriteLineAsync($"id: {found.Id}\nkind: {found.Kind}\nsender: <{found.EnvelopeFrom}>\nsize: {found.ContentLength}\ncreated: {found.CreatedAt:o}\nexpires: {found.ExpiresAt:o}\nattempts: {found.Attempts}\nnext attempt: {found.NextAttemptAt:o}\nstate: {State(found, services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime)}\nlast error: {found.LastError ?? "-"}");
                foreach (var recipient in found.Recipients)
                {
                    await output.WriteLineAsync($"recipient: <{recipient.Address}> {recipient.State} {recipient.LastResponse}");
                }
                return 0;
            case "retry":
                var count = await queue.RetryNowAsync(id, cancellationToken);
                await output.WriteLineAsync($"{count} item(s) released (lease and hold) and due now; a running gateway takes them within Queue:PollInterval");
                return id is not null && count == 0 ? 1 : 0;
            case "delete" when id is not null:
                var deleted = await queue.DeleteAsync(id, cancellationToken);
                await output.WriteLineAsync(deleted ? $"deleted {id}" : $"queue: no item {id}");
                return deleted ? 0 : 1;
            default:
                await output.WriteLineAsync("usage: gateway queue list | show ID | retry [ID] | delete ID; gateway hash-password < password");
                return 2;
        }
    }

    /// <summary>What the item is waiting for, in words: held, leased (by whom, until when), or due.</summary>
    private static string State(OutboundMessage item, DateTime now)
    {
        if (item.FinishedAt is not null)
        {
            return $"finished at {item.FinishedAt:yyyy-MM-dd HH:mm:ss} (kept as a record; content removed)";
        }
        if (item.HeldAt is not null)
        {
            return $"HELD for the operator since {item.HeldAt:yyyy-MM-dd HH:mm:ss}: {item.LastError} (queue retry {item.Id} to release)";
        }
        if (item.LeaseToken is not null && item.LeaseExpiresAt > now)
        {
            return $"being delivered by {item.LeaseOwner}/{item.LeaseStartId}, lease until {item.LeaseExpiresAt:yyyy-MM-dd HH:mm:ss}";
        }
        if (item.LeaseToken is not null)
        {
            return $"lease of {item.LeaseOwner}/{item.LeaseStartId} expired at {item.LeaseExpiresAt:yyyy-MM-dd HH:mm:ss}; due to be taken over";
        }
        return item.NextAttemptAt <= now ? "due now" : $"deferred until {item.NextAttemptAt:yyyy-MM-dd HH:mm:ss}";
    }
}
