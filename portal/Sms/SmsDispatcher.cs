using System.Threading.Channels;

namespace SecureMailbox.Portal.Sms;

/// <summary>
/// Sends SMS after the request has been answered, for the flows whose answer must not depend on whether an account
/// exists (docs/rules.md A12: "forgot password" sends a code only for a real account, and waiting for Twilio's API would
/// make that visible in the response time). A code lost to a crash before it went out is asked for again with
/// "send a new code"; failures are logged without the number or the text.
/// </summary>
public sealed class SmsDispatcher(ISmsSender sender, ILogger<SmsDispatcher> logger) : BackgroundService
{
    private readonly Channel<(string To, string Text)> _queue = Channel.CreateUnbounded<(string, string)>(new UnboundedChannelOptions { SingleReader = true });

    private int _pending;

    /// <summary>SMS queued or being sent (operators' health view; tests wait for it to reach zero).</summary>
    public int Pending => Volatile.Read(ref _pending);

    public void Enqueue(string e164, string text)
    {
        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite((e164, text)))
        {
            Interlocked.Decrement(ref _pending);
            logger.LogError("SMS could not be queued: the dispatcher has stopped");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (to, text) in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await sender.SendAsync(to, text, stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError("A queued SMS could not be sent: {Error}", exception.GetType().Name);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
