using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using SecureMailbox.Vault;

namespace SecureMailbox.Gateway;

/// <summary>Builds the gateway host; used by Program and by the tests that run it in-process.</summary>
public static class GatewayHost
{
    public static HostApplicationBuilder CreateBuilder(string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables("SECUREMAILBOX_");
        configure?.Invoke(builder.Configuration);
        builder.Services.AddVault();
        builder.Services.AddSpool();
        builder.Services.AddSmtpListener();
        builder.Services.AddDelivery();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        return builder;
    }
}
