using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureMailbox.Vault;
using SmtpServer;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>
/// The STARTTLS certificate: the configured PKCS#12 file, or in the default set-up a self-signed one created
/// on first start and kept in the data folder (file mode 600).
/// </summary>
internal sealed class ServerCertificate : ICertificateFactory
{
    private readonly X509Certificate2 _certificate;

    public ServerCertificate(IOptions<SmtpOptions> smtp, IOptions<VaultOptions> vault, ILogger<ServerCertificate> logger)
    {
        var options = smtp.Value;
        if (!string.IsNullOrEmpty(options.CertificatePath))
        {
            _certificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword);
            return;
        }
        var path = Path.Combine(vault.Value.DataPath, "smtp-selfsigned.pfx");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(vault.Value.DataPath);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={options.ServerName}", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(options.ServerName);
            request.CertificateExtensions.Add(san.Build());
            using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
            File.WriteAllBytes(path, created.Export(X509ContentType.Pkcs12));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            logger.LogInformation("Created a self-signed STARTTLS certificate for {ServerName} at {Path}", options.ServerName, path);
        }
        _certificate = X509CertificateLoader.LoadPkcs12FromFile(path, null);
    }

    public X509Certificate GetServerCertificate(ISessionContext sessionContext) => _certificate;
}
