using System.ComponentModel.DataAnnotations;
using System.Net;

namespace SecureMailbox.Gateway;

/// <summary>The SMTP listener: configuration section <c>Smtp</c>.</summary>
public sealed class SmtpOptions : IValidatableObject
{
    public const string Section = "Smtp";

    /// <summary>The address to bind to (never "any" by default).</summary>
    [Required]
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (tests).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 2525;

    /// <summary>The host name in the greeting, in Received headers and in bounces.</summary>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$", ErrorMessage = "Smtp:ServerName must be a host name.")]
    public string ServerName { get; set; } = "localhost";

    /// <summary>The largest message accepted, in bytes (enforced while DATA is read).</summary>
    [Range(1024, int.MaxValue)]
    public long MaxMessageSize { get; set; } = 150L * 1024 * 1024;

    /// <summary>The largest header block accepted (docs/rules.md S6).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxHeaderSize { get; set; } = 100 * 1024;

    /// <summary>The deepest MIME nesting accepted (docs/rules.md S6).</summary>
    [Range(1, 1000)]
    public int MaxMimeDepth { get; set; } = 100;

    /// <summary>The most MIME parts accepted in one message (docs/rules.md S6).</summary>
    [Range(1, 1_000_000)]
    public int MaxMimeParts { get; set; } = 10_000;

    /// <summary>Received headers at or above this count mean a loop (docs/rules.md D11).</summary>
    [Range(2, 1000)]
    public int MaxReceivedHeaders { get; set; } = 100;

    /// <summary>
    /// Client networks allowed to relay without authentication, in CIDR notation; empty means loopback only
    /// (<see cref="EffectiveAllowedNetworks"/>). The default is not put in the list itself: the configuration
    /// binder adds configured entries to an existing list, so "10.0.0.0/8" would have become loopback plus 10/8.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>The networks the relay check uses: the configured ones, or loopback when none are configured.</summary>
    public IReadOnlyList<string> EffectiveAllowedNetworks => AllowedNetworks.Count > 0 ? AllowedNetworks : ["127.0.0.0/8", "::1/128"];

    /// <summary>Free space in the spool must be at least this multiple of <see cref="MaxMessageSize"/> (docs/rules.md D5).</summary>
    [Range(1.0, double.MaxValue)]
    public double MinimumFreeSpaceFactor { get; set; } = 1.5;

    /// <summary>A client that may not relay is disconnected (421 4.7.0) at this many refused MAIL/RCPT commands.</summary>
    [Range(1, 100)]
    public int MaxRelayRefusals { get; set; } = 3;

    /// <summary>Sessions open at once, in total (421 4.7.0 beyond).</summary>
    [Range(1, 100_000)]
    public int MaxConnections { get; set; } = 500;

    /// <summary>Sessions open at once from one client address (421 4.7.0 beyond).</summary>
    [Range(1, 100_000)]
    public int MaxConnectionsPerClient { get; set; } = 50;

    /// <summary>A whole session may last this long; raised from SmtpServer's 2 minutes so a message at the limit fits (D9).</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long to wait for the client: for the next command, and for more DATA content (RFC 5321 §4.5.3.2.7: a server
    /// waits at least 5 minutes). When it passes the session ends with <c>421 4.4.2</c>.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>PKCS#12 certificate for STARTTLS; empty means a self-signed one created on first start in the data folder.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of the PKCS#12 file, if any.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Users allowed to relay after AUTH (over TLS only): name and Argon2id/PBKDF2 hash from <c>gateway hash-password</c>.</summary>
    public List<SmtpUser> Users { get; set; } = [];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IPAddress.TryParse(ListenAddress, out _))
        {
            yield return new ValidationResult($"Smtp:ListenAddress '{ListenAddress}' is not an IP address.", [nameof(ListenAddress)]);
        }
        foreach (var network in AllowedNetworks)
        {
            if (!IPNetwork.TryParse(network, out _))
            {
                yield return new ValidationResult($"Smtp:AllowedNetworks entry '{network}' is not a CIDR network (e.g. 10.0.0.0/8).", [nameof(AllowedNetworks)]);
            }
        }
        if (SessionTimeout < TimeSpan.FromMinutes(1) || CommandTimeout < TimeSpan.FromSeconds(10))
        {
            yield return new ValidationResult("Smtp:SessionTimeout must be at least 1 minute and Smtp:CommandTimeout at least 10 seconds.", [nameof(SessionTimeout)]);
        }
        foreach (var user in Users)
        {
            if (string.IsNullOrWhiteSpace(user.Name) || string.IsNullOrWhiteSpace(user.PasswordHash))
            {
                yield return new ValidationResult("Smtp:Users entries need Name and PasswordHash.", [nameof(Users)]);
            }
        }
    }
}

/// <summary>A user who may relay after SMTP AUTH.</summary>
public sealed class SmtpUser
{
    public string Name { get; set; } = "";

    /// <summary>PBKDF2-SHA256 hash in the form produced by <c>gateway hash-password</c>.</summary>
    public string PasswordHash { get; set; } = "";
}

/// <summary>What counts as secure mail: configuration section <c>Classification</c>.</summary>
public sealed class ClassificationOptions
{
    public const string Section = "Classification";

    /// <summary>
    /// Subject keywords that flag a message as secure (case-insensitive); removed from the stored subject.
    /// Empty means the defaults (<see cref="EffectiveSubjectKeywords"/>): the binder would add configured entries to
    /// a pre-filled list instead of replacing it.
    /// </summary>
    public List<string> SubjectKeywords { get; set; } = [];

    /// <summary>The configured keywords, or <c>[secure]</c> and <c>[säker]</c>.</summary>
    public IReadOnlyList<string> EffectiveSubjectKeywords => SubjectKeywords.Count > 0 ? SubjectKeywords : ["[secure]", "[säker]"];
}

/// <summary>How the gateway reaches the next hop: configuration section <c>Delivery</c>.</summary>
public sealed class DeliveryOptions : IValidatableObject
{
    /// <summary>A fingerprint as compared: upper-case hex without separators.</summary>
    public static string NormaliseFingerprint(string fingerprint) =>
        new string((fingerprint ?? "").Where(c => c is not (':' or ' ' or '-')).ToArray()).ToUpperInvariant();

    public const string Section = "Delivery";

    /// <summary><c>Pickup</c> (a folder of .eml files, the default), <c>Smarthost</c>, or <c>Mx</c> (direct to each domain's MX).</summary>
    [Required]
    [RegularExpression("^(Pickup|Smarthost|Mx)$", ErrorMessage = "Delivery:Mode must be Pickup, Smarthost or Mx.")]
    public string Mode { get; set; } = "Pickup";

    /// <summary>Folder for <c>Pickup</c> mode; relative to the data folder.</summary>
    public string PickupDirectory { get; set; } = "pickup";

    /// <summary>Smarthost host name or address.</summary>
    public string? SmarthostHost { get; set; }

    /// <summary>Smarthost port.</summary>
    [Range(1, 65535)]
    public int SmarthostPort { get; set; } = 25;

    /// <summary>
    /// TLS to the next hop, like Postfix's security levels: <c>Opportunistic</c> uses STARTTLS
    /// when offered and does not verify the certificate (RFC 7435; Postfix <c>may</c>); <c>Required</c> uses STARTTLS
    /// and verifies the certificate (Postfix <c>verify</c>/<c>secure</c>): a public CA, the CA in
    /// <see cref="TrustedCaFile"/>, or a fingerprint in <see cref="CertificateFingerprints"/>; <c>None</c> never encrypts.
    /// </summary>
    [RegularExpression("^(Opportunistic|Required|None)$", ErrorMessage = "Delivery:Tls must be Opportunistic, Required or None.")]
    public string Tls { get; set; } = "Opportunistic";

    /// <summary>
    /// With <c>Required</c>: false accepts any certificate (encrypted, not verified). Kept for existing
    /// configurations; prefer <see cref="TrustedCaFile"/> or <see cref="CertificateFingerprints"/>. A warning is logged at start.
    /// </summary>
    public bool ValidateCertificate { get; set; } = true;

    /// <summary>A PEM file of CA certificates to trust for the next hop besides the system's (a private CA); with <c>Required</c>.</summary>
    public string? TrustedCaFile { get; set; }

    /// <summary>
    /// SHA-256 fingerprints (hex, colons optional) of next-hop certificates to accept whatever their issuer and name
    /// (Postfix <c>fingerprint</c> level); with <c>Required</c>. Get one with
    /// <c>openssl x509 -in cert.pem -noout -fingerprint -sha256</c>.
    /// </summary>
    public List<string> CertificateFingerprints { get; set; } = [];

    /// <summary>Optional smarthost user name.</summary>
    public string? Username { get; set; }

    /// <summary>Optional smarthost password (from a secret store or environment, never the repository).</summary>
    public string? Password { get; set; }

    /// <summary>DNS servers for MX look-ups (host or host:port); empty means the system's resolvers.</summary>
    public List<string> DnsServers { get; set; } = [];

    /// <summary>The port MX hosts are contacted on (25; other values are for tests).</summary>
    [Range(1, 65535)]
    public int MxPort { get; set; } = 25;

    /// <summary>Timeout of each SMTP command on the outbound side (RFC 5321 §4.5.3.2: minutes, not seconds).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The host name announced in EHLO to the next hop; defaults to Smtp:ServerName.</summary>
    public string? HeloName { get; set; }

    /// <summary>
    /// Where reports about mail held for the operator go (a failure that cannot be bounced, or the smarthost refusing
    /// to relay: the "double bounce"); empty means none are sent (the Error in the log and <c>queue list</c> remain).
    /// </summary>
    public string? PostmasterAddress { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Mode == "Smarthost" && string.IsNullOrWhiteSpace(SmarthostHost))
        {
            yield return new ValidationResult("Delivery:SmarthostHost is required when Delivery:Mode is Smarthost.", [nameof(SmarthostHost)]);
        }
        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            yield return new ValidationResult("Delivery:Username and Delivery:Password go together.", [nameof(Username)]);
        }
        if (!string.IsNullOrEmpty(PostmasterAddress) && !MimeKit.MailboxAddress.TryParse(PostmasterAddress, out _))
        {
            yield return new ValidationResult($"Delivery:PostmasterAddress '{PostmasterAddress}' is not a mail address.", [nameof(PostmasterAddress)]);
        }
        if (!string.IsNullOrEmpty(TrustedCaFile) && !File.Exists(TrustedCaFile))
        {
            yield return new ValidationResult($"Delivery:TrustedCaFile '{TrustedCaFile}' does not exist.", [nameof(TrustedCaFile)]);
        }
        foreach (var fingerprint in CertificateFingerprints)
        {
            if (NormaliseFingerprint(fingerprint).Length != 64 || !NormaliseFingerprint(fingerprint).All(char.IsAsciiHexDigit))
            {
                yield return new ValidationResult($"Delivery:CertificateFingerprints entry '{fingerprint}' is not a SHA-256 fingerprint (64 hex digits).", [nameof(CertificateFingerprints)]);
            }
        }
        if ((!string.IsNullOrEmpty(TrustedCaFile) || CertificateFingerprints.Count > 0) && Tls != "Required")
        {
            yield return new ValidationResult("Delivery:TrustedCaFile and Delivery:CertificateFingerprints need Delivery:Tls=Required (Opportunistic does not verify).", [nameof(Tls)]);
        }
        if (CommandTimeout < TimeSpan.FromSeconds(5))
        {
            yield return new ValidationResult("Delivery:CommandTimeout must be at least 5 seconds.", [nameof(CommandTimeout)]);
        }
    }
}
