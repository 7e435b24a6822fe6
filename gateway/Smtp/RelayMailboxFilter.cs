using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Gateway.Spool;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// Never an open relay (docs/rules.md S4): only clients in the allowed networks or authenticated users may send,
/// checked at MAIL FROM and again at RCPT TO; a client that may not relay is dropped after a few refusals. Also
/// refuses new mail while the spool is low on disk (D5), and addresses the relay could not pass on as written.
/// </summary>
internal sealed partial class RelayMailboxFilter(IOptions<SmtpOptions> options, SpoolDirectory spool, ILogger<RelayMailboxFilter> logger) : IMailboxFilter
{
    private const string RefusalsKey = "SecureMailbox.RelayRefusals";

    private readonly SmtpOptions _options = options.Value;
    private readonly IPNetwork[] _allowed = options.Value.EffectiveAllowedNetworks.Select(n => IPNetwork.Parse(n)).ToArray();

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        EnsureAllowed(context);
        if (from is not null && from.User.Length > 0)
        {
            EnsureRelayable(context, from, "5.1.7", "sender");
        }
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
        EnsureRelayable(context, to, "5.1.3", "recipient");
        return Task.FromResult(true);
    }

    /// <summary>
    /// Whatever is accepted must reach the next hop as the client wrote it. SmtpServer hands over a local part without
    /// its quotes, so a local part that needs them (<c>"john doe"</c>) would be relayed as another address: refused
    /// here. A source route (<c>@a,@b:c@d</c>) is dropped by the parser, as RFC 5321 appendix C asks (the relay sends
    /// <c>c@d</c>); the <c>%</c> hack (<c>a%b@c</c>) asks this host to route on, and only authenticated users may.
    /// </summary>
    private void EnsureRelayable(ISessionContext context, IMailbox mailbox, string enhanced, string role)
    {
        if (!DotAtom().IsMatch(mailbox.User))
        {
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)553,
                $"{enhanced} The {role} address needs a quoted local part, which this gateway does not relay; use an address without quotes"));
        }
        if (mailbox.User.Contains('%', StringComparison.Ordinal) && !context.Authentication.IsAuthenticated)
        {
            logger.LogWarning("Refused a %-routed {Role} address from an unauthenticated client", role);
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)553, $"{enhanced} Addresses with '%' are not relayed for unauthenticated clients"));
        }
        if (!MimeKit.MailboxAddress.TryParse(mailbox.AsAddress(), out var parsed) || parsed is not MimeKit.MailboxAddress || string.IsNullOrEmpty(mailbox.Host))
        {
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)553, $"{enhanced} The {role} address is not one this gateway can relay"));
        }
    }

    // RFC 5322 §3.2.3 dot-atom: the local parts that need no quotes.
    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")]
    private static partial Regex DotAtom();

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
        var refusals = context.Properties.TryGetValue(RefusalsKey, out var counted) ? (int)counted + 1 : 1;
        context.Properties[RefusalsKey] = refusals;
        if (refusals >= _options.MaxRelayRefusals)
        {
            // No use listening further: it cannot send here whatever it tries, and it holds a connection slot.
            logger.LogWarning("Relay denied for {Client} {Count} times; closing the connection", address, refusals);
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)421, $"4.7.0 {_options.ServerName} Too many refused commands; closing connection"), true);
        }
        logger.LogWarning("Relay denied for {Client}: not in an allowed network and not authenticated", address);
        throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)554, "5.7.1 Relay access denied"));
    }
}
