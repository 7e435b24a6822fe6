using Microsoft.Extensions.Logging;

namespace SecureMailbox.Gateway.Tests.Support;

/// <summary>Writes the gateway's log lines to NUnit's progress output, so a failing test shows what the service did.</summary>
public sealed class ProgressLoggerProvider(string? logFile = null) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName[(categoryName.LastIndexOf('.') + 1)..], logFile);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, string? logFile) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message)}";
            lock (TestContext.Progress)
            {
                TestContext.Progress.WriteLine(line);
                if (logFile is not null)
                {
                    File.AppendAllText(logFile, line + Environment.NewLine);
                }
            }
        }
    }
}
