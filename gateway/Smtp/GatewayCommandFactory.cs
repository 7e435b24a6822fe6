using SmtpServer;
using SmtpServer.Protocol;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>Adds the extensions the gateway supports beyond SmtpServer's own to the EHLO reply.</summary>
internal sealed class GatewayCommandFactory : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new GatewayEhloCommand(domainOrAddress);

    private sealed class GatewayEhloCommand(string domainOrAddress) : EhloCommand(domainOrAddress)
    {
        protected override IEnumerable<string> GetExtensions(ISessionContext context)
        {
            // SMTPUTF8 is left out: the next hop may not offer it, and the gateway does not downgrade addresses.
            return base.GetExtensions(context).Where(e => e != "SMTPUTF8").Append("ENHANCEDSTATUSCODES");
        }

        protected override string GetGreeting(ISessionContext context) => $"{context.ServerOptions.ServerName} Hello {DomainOrAddress}";
    }
}
