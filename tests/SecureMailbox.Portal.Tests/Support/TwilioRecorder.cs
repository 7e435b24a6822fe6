using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureMailbox.Portal.Tests.Support;

/// <summary>
/// An HTTP server on 127.0.0.1 that answers like Twilio's Messages API and records each request, after
/// <c>delay</c> (Twilio's API is a network round trip away).
/// </summary>
public sealed class TwilioRecorder : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly TimeSpan _delay;

    public TwilioRecorder(TimeSpan delay = default)
    {
        _delay = delay;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public ConcurrentQueue<(string Method, string Path, string? Authorization, string Body)> Requests { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            if (_delay > TimeSpan.Zero)
            {
                await Task.Delay(_delay);
            }
            Requests.Enqueue((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], body));
            var json = "{\"sid\":\"SM00000000000000000000000000000001\",\"status\":\"queued\",\"to\":\"+46701234567\",\"from\":\"+46700000000\",\"body\":\"x\",\"num_segments\":\"1\"}";
            var bytes = Encoding.UTF8.GetBytes(json);
            context.Response.StatusCode = 201;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
