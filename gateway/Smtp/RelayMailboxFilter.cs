using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Gateway.Spool;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// Never an open relay (SECURITY.md S4): only clients in the allowed networks or authenticated users may send,
/// checked at MAIL FROM and again at RCPT TO. Also refuses new mail while the spool is low on disk (D5).
/// </summary>
internal sealed class RelayMailboxFilter(IOptions<SmtpOptions> options, SpoolDirectory spool, ILogger<RelayMailboxFilter> logger) : IMailboxFilter
{
    private readonly SmtpOptions _options = options.Value;
    private readonly IPNetwork[] _allowed = options.Value.EffectiveAllowedNetworks.Select(n => IPNetwork.Parse(n)).ToArray();

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        EnsureAllowed(context);
        var free = new DriveInfo(Path.GetFullPath(spool.Root)).AvailableFreeSpace;
        if (free < _options.MaxMessageSize * _options.MinimumFreeSpaceFactor)
        {
            logger.LogError("Spool is low on disk: {Free} bytes free", free);
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)452, "4.3.1 Insufficient system storage; try again later"));
        }
        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        EnsureAllowed(context);
        return Task.FromResult(true);
    }

    private void EnsureAllowed(ISessionContext context)
    {
        if (context.Authentication.IsAuthenticated)
        {
            return;
        }
        var address = context.Pipe is SmtpConnection connection ? connection.RemoteAddress : IPAddress.None;
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (_allowed.Any(n => n.Contains(address)))
        {
            return;
        }
        logger.LogWarning("Relay denied for {Client}: not in an allowed network and not authenticated", address);
        throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)554, "5.7.1 Relay access denied"));
    }
}
