using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Gateway.Delivery;

/// <summary>
/// Decides whether the next hop's TLS certificate is good enough, by Delivery:Tls (docs/operators.md, TLS to the next hop):
/// Opportunistic encrypts without verifying (a certificate an active attacker made would do, as with Postfix
/// <c>may</c>: still better than plain text against passive listening); Required verifies it against the system's CAs,
/// the CAs of Delivery:TrustedCaFile, or the pinned fingerprints.
/// </summary>
internal sealed class NextHopCertificatePolicy
{
    private readonly DeliveryOptions _options;
    private readonly HashSet<string> _pins;
    private readonly X509Certificate2Collection _trustedCas = [];

    public NextHopCertificatePolicy(IOptions<DeliveryOptions> options, ILogger<NextHopCertificatePolicy> logger)
    {
        _options = options.Value;
        _pins = _options.CertificateFingerprints.Select(DeliveryOptions.NormaliseFingerprint).ToHashSet(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(_options.TrustedCaFile))
        {
            _trustedCas.ImportFromPemFile(_options.TrustedCaFile);
        }
        Verifies = _options.Tls == "Required" && (_options.ValidateCertificate || _pins.Count > 0 || _trustedCas.Count > 0);
        if (_options.Tls == "None")
        {
            logger.LogWarning("TLS to the next hop is off (Delivery:Tls=None): mail leaves in plain text");
        }
        else if (!Verifies)
        {
            logger.LogWarning("TLS to the next hop is not verified (Delivery:Tls={Tls}{Validate}): mail is encrypted but an active attacker could intercept it; " +
                "set Delivery:Tls=Required with Delivery:TrustedCaFile or Delivery:CertificateFingerprints to verify it",
                _options.Tls, _options.ValidateCertificate ? "" : ", Delivery:ValidateCertificate=false");
        }
    }

    /// <summary>Whether the certificate is verified at all.</summary>
    public bool Verifies { get; }

    /// <summary>The callback for MailKit's <c>ServerCertificateValidationCallback</c>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }
        if (!Verifies)
        {
            return true;
        }
        if (_pins.Count > 0)
        {
            var fingerprint = Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));
            return _pins.Contains(fingerprint);
        }
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (_trustedCas.Count == 0 || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false; // a name that does not match is never accepted on the strength of a private CA
        }
        using var privateChain = new X509Chain();
        privateChain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        privateChain.ChainPolicy.CustomTrustStore.AddRange(_trustedCas);
        privateChain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements.Skip(1))
            {
                privateChain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return privateChain.Build(leaf);
    }
}
