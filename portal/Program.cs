using SecureMailbox.Portal.Addin;
using SecureMailbox.Vault;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddEnvironmentVariables("SECUREMAILBOX_");
builder.Services.AddVault();
builder.Services.AddAddin(builder.Configuration);

var app = builder.Build();
app.MapGet("/health", () => TypedResults.Ok("ok"));
app.MapAddin();
app.Run();

/// <summary>Entry point, visible to the test host.</summary>
public partial class Program;
