using SecureMailbox.Portal.Accounts;
using SecureMailbox.Portal.Addin;
using SecureMailbox.Portal.Addin.Api;
using SecureMailbox.Portal.Data;
using SecureMailbox.Portal.Links;
using SecureMailbox.Portal.Localization;
using SecureMailbox.Portal.Mailbox;
using SecureMailbox.Portal.Registration;
using SecureMailbox.Portal.Security;
using SecureMailbox.Portal.Sessions;
using SecureMailbox.Portal.Sms;
using SecureMailbox.Portal.Verification;
using SecureMailbox.Vault;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddEnvironmentVariables("SECUREMAILBOX_");
builder.Services.AddVault();
builder.Services.AddPortalData();
builder.Services.AddPortalSecurity();
builder.Services.AddPortalLocalization();
builder.Services.AddSms(builder.Configuration);
builder.Services.AddLinks();
builder.Services.AddRecipientVerification();
builder.Services.AddSessions();
builder.Services.AddAccounts();
builder.Services.AddRegistration();
builder.Services.AddMailbox();
builder.Services.AddPortalPages();
builder.Services.AddAddin(builder.Configuration);
builder.Services.AddAddinApi(builder.Configuration);

var app = builder.Build();
app.UsePortalSecurity();
app.UseRequestLocalization();
app.UsePortalStaticFiles();
app.MapGet("/health", () => TypedResults.Ok("ok"));
app.MapAddin();
app.MapAddinApi();
app.MapReplyUpload();
app.MapRazorPages();
app.Run();

/// <summary>Entry point, visible to the test host.</summary>
public partial class Program;
