using Microsoft.EntityFrameworkCore;

namespace SecureMailbox.Portal.Data;

/// <summary>
/// The portal's own short-lived state (pre-sessions, SMS code requests, sessions, rate-limit events), in its own
/// SQLite file next to the vault database. Nothing here opens mail: every key is wrapped under a secret that lives
/// only in a cookie (docs/rules.md property 6). On PostgreSQL the tables live in the shared database and the context is
/// a <see cref="PostgreSqlPortalDbContext"/>.
/// </summary>
public class PortalDbContext(DbContextOptions<PortalDbContext> options) : DbContext(options)
{
    public DbSet<PreSession> PreSessions => Set<PreSession>();

    public DbSet<SmsCodeRequest> SmsCodeRequests => Set<SmsCodeRequest>();

    public DbSet<PortalSession> Sessions => Set<PortalSession>();

    public DbSet<RateCounter> RateCounters => Set<RateCounter>();

    public DbSet<TwoFactorSecret> TwoFactorSecrets => Set<TwoFactorSecret>();

    public DbSet<TwoFactorSetup> TwoFactorSetups => Set<TwoFactorSetup>();

    public DbSet<BackupCodeHash> BackupCodes => Set<BackupCodeHash>();

    public DbSet<PendingSignIn> PendingSignIns => Set<PendingSignIn>();

    public DbSet<SecurityEvent> SecurityEvents => Set<SecurityEvent>();

    public DbSet<RecoveryRequest> RecoveryRequests => Set<RecoveryRequest>();

    public DbSet<Registration> Registrations => Set<Registration>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<PreSession>(e =>
        {
            e.HasKey(p => p.Id);
            e.Property(p => p.Phone).HasMaxLength(20);
        });
        modelBuilder.Entity<SmsCodeRequest>(e =>
        {
            e.HasKey(r => r.Id);
            e.HasIndex(r => r.PreSessionId);
        });
        modelBuilder.Entity<PortalSession>(e =>
        {
            e.HasKey(s => s.Id);
            e.Property(s => s.Id).HasMaxLength(64);
            e.HasIndex(s => s.AccountId);
            e.Property(s => s.Device).HasMaxLength(100);
            e.Property(s => s.Network).HasMaxLength(64);
        });
        modelBuilder.Entity<RateCounter>(e =>
        {
            e.HasKey(r => r.Key);
            e.Property(r => r.Key).HasMaxLength(128);
            e.HasIndex(r => r.WindowStart);
        });
        modelBuilder.Entity<TwoFactorSecret>(e => e.HasKey(t => t.AccountId));
        modelBuilder.Entity<TwoFactorSetup>(e =>
        {
            e.HasKey(t => t.Id);
            e.Property(t => t.Id).HasMaxLength(64);
        });
        modelBuilder.Entity<BackupCodeHash>(e =>
        {
            e.HasKey(b => b.Id);
            e.HasIndex(b => b.AccountId);
        });
        modelBuilder.Entity<PendingSignIn>(e =>
        {
            e.HasKey(p => p.Id);
            e.Property(p => p.Id).HasMaxLength(64);
        });
        modelBuilder.Entity<SecurityEvent>(e =>
        {
            e.HasKey(v => v.Id);
            e.Property(v => v.Kind).HasConversion<string>().HasMaxLength(40);
            e.Property(v => v.Device).HasMaxLength(100);
            e.Property(v => v.Network).HasMaxLength(64);
            e.HasIndex(v => new { v.AccountId, v.At });
        });
        modelBuilder.Entity<Registration>(e =>
        {
            e.HasKey(r => r.Id);
            e.HasIndex(r => r.TokenHash).IsUnique();
            e.Property(r => r.Email).HasMaxLength(320);
            e.Property(r => r.Phone).HasMaxLength(20);
            e.Property(r => r.CookieRowId).HasMaxLength(64);
            e.HasIndex(r => r.CookieRowId);
        });
        modelBuilder.Entity<RecoveryRequest>(e =>
        {
            e.HasKey(r => r.Id);
            e.Property(r => r.Id).HasMaxLength(64);
            e.Property(r => r.Purpose).HasConversion<string>().HasMaxLength(24);
            e.Property(r => r.Phone).HasMaxLength(20);
            e.Property(r => r.NewPhone).HasMaxLength(20);
            e.HasIndex(r => r.AccountId);
        });
    }
}

/// <summary>
/// What a used notification link turned into: the link, and (for pending readers) the link key wrapped under a
/// random key that exists only in the pre-session cookie.
/// </summary>
public sealed class PreSession
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid LinkId { get; set; }

    public Guid AccountId { get; set; }

    public Guid MessageId { get; set; }

    /// <summary>The number the sender gave (E.164); null for a pending sender, whose link proves the mailbox.</summary>
    public string? Phone { get; set; }

    /// <summary>The link key, wrapped under the cookie's key (<c>KeyWrapPurpose.SessionKey</c>).</summary>
    public byte[]? WrappedLinkKey { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    /// <summary>When the SMS code (or, for senders, the link alone) proved the person.</summary>
    public DateTime? VerifiedAt { get; set; }

    /// <summary>Whether "notify the sender" was used (once per pre-session).</summary>
    public bool SenderNotified { get; set; }
}

/// <summary>One "send code" request: a hashed 6-digit code, its sends and checks (docs/rules.md A9, P3).</summary>
public sealed class SmsCodeRequest
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid PreSessionId { get; set; }

    public Guid LinkId { get; set; }

    /// <summary>HMAC-SHA256(server key, request id ‖ code).</summary>
    public required byte[] CodeHash { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    public DateTime LastSentAt { get; set; }

    public int Sends { get; set; }

    public int Checks { get; set; }

    public DateTime? UsedAt { get; set; }
}

/// <summary>
/// A signed-in session. The id is the SHA-256 of the cookie's session id; the account key is wrapped under a second
/// random key that lives only in the cookie, so this row alone opens nothing.
/// </summary>
public sealed class PortalSession
{
    public required string Id { get; set; }

    public Guid AccountId { get; set; }

    public required byte[] WrappedKey { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime LastSeenAt { get; set; }

    public DateTime AbsoluteExpiresAt { get; set; }

    /// <summary>Browser and system from the User-Agent at sign-in ("Firefox on Windows"), for the Security page.</summary>
    public string? Device { get; set; }

    /// <summary>The network the session started from, approximated (IPv4 /24, IPv6 /48): see <c>ClientNetwork</c>.</summary>
    public string? Network { get; set; }

    /// <summary>When the user last re-entered password and second factor in this session (docs/rules.md A13).</summary>
    public DateTime? ReauthenticatedAt { get; set; }
}

/// <summary>
/// How many events (SMS sent, failed sign-ins, …) a key such as <c>sms-phone:+4670…</c> has counted in its current
/// window, which opens with the first event after the previous window ended. Changed only by conditional updates
/// (see <c>RateLimits</c>), so parallel requests cannot count past the limit.
/// </summary>
public sealed class RateCounter
{
    public required string Key { get; set; }

    public DateTime WindowStart { get; set; }

    public int Count { get; set; }
}

/// <summary>
/// An account's TOTP secret, AES-GCM encrypted under a key derived from the server secret (see
/// <c>TotpSecretProtector</c>). <see cref="EnabledAt"/> is null while the user has not yet confirmed a code.
/// </summary>
public sealed class TwoFactorSecret
{
    public Guid AccountId { get; set; }

    public required byte[] EncryptedSecret { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? EnabledAt { get; set; }

    /// <summary>The last accepted TOTP time step: a code for this step or an earlier one is refused (replay).</summary>
    public long LastUsedStep { get; set; }
}

/// <summary>An "enable 2FA" in progress for one session (id = the session row id): password checked, SMS sent/checked.</summary>
public sealed class TwoFactorSetup
{
    public required string Id { get; set; }

    public Guid AccountId { get; set; }

    /// <summary>The pre-session row the SMS code request hangs on (reusing the verification code rules).</summary>
    public Guid PreSessionId { get; set; }

    public bool SmsVerified { get; set; }

    public DateTime ExpiresAt { get; set; }
}

/// <summary>One unused backup code: a keyed hash of the code and the vault <c>AccountKey</c> it wraps.</summary>
public sealed class BackupCodeHash
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid AccountId { get; set; }

    /// <summary>The vault AccountKey (Kind BackupCode) wrapped under this code with Argon2id.</summary>
    public Guid AccountKeyId { get; set; }

    /// <summary>HMAC-SHA256(server key, account id ‖ normalised code).</summary>
    public required byte[] Hash { get; set; }
}

/// <summary>
/// A sign-in whose password was right and whose second factor is due. The account key is wrapped under a random key
/// that lives only in the pending cookie (like sessions); the row grants nothing by itself.
/// </summary>
public sealed class PendingSignIn
{
    public required string Id { get; set; }

    public Guid AccountId { get; set; }

    public required byte[] WrappedKey { get; set; }

    public string ReturnUrl { get; set; } = "/mailbox";

    public DateTime ExpiresAt { get; set; }

    public int Attempts { get; set; }
}

/// <summary>What happened to an account's security, for the user's Security page. Never holds a secret or a code.</summary>
public enum SecurityEventKind
{
    SignedIn,
    SignInFailed,
    SecondFactorFailed,
    SignedOutEverywhere,
    SessionEnded,
    Reauthenticated,
    PasswordChanged,
    PasswordResetWithBackupCode,
    PasswordResetWithNewKey,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorRecovered,
    BackupCodesRegenerated,
    BackupCodeUsed,
    PhoneChanged,
    BackupPhoneAdded,
    BackupPhoneRemoved,
}

/// <summary>One security event of an account (kept 180 days, deleted with the account).</summary>
public sealed class SecurityEvent
{
    public long Id { get; set; }

    public Guid AccountId { get; set; }

    public DateTime At { get; set; }

    public SecurityEventKind Kind { get; set; }

    public string? Device { get; set; }

    public string? Network { get; set; }
}

/// <summary>What a recovery request is for.</summary>
public enum RecoveryPurpose
{
    ForgotPassword,
    LostAuthenticator,
    ChangePhone,
    AddBackupPhone,
}

/// <summary>
/// A recovery or phone change in progress, found by the SHA-256 of its cookie's id (like sessions). For an unknown
/// address <see cref="AccountId"/> is null and the flow answers exactly as for a known one (docs/rules.md A12).
/// A key unwrapped on the way (with a backup code or the password) is held only wrapped under the cookie's key.
/// </summary>
public sealed class RecoveryRequest
{
    public required string Id { get; set; }

    public RecoveryPurpose Purpose { get; set; }

    public Guid? AccountId { get; set; }

    /// <summary>The pre-session row the SMS code request hangs on (the verification code rules apply).</summary>
    public Guid? PreSessionId { get; set; }

    /// <summary>The number the SMS code went to (the account's phone or backup phone), E.164.</summary>
    public string? Phone { get; set; }

    /// <summary>For phone changes: the new number, verified by its own SMS code before it is saved.</summary>
    public string? NewPhone { get; set; }

    public DateTime? SmsVerifiedAt { get; set; }

    public DateTime? BackupCodeUsedAt { get; set; }

    public DateTime? SecondFactorVerifiedAt { get; set; }

    /// <summary>The account key (from a backup code or the password), wrapped under the cookie's key.</summary>
    public byte[]? WrappedKey { get; set; }

    public int Attempts { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}

/// <summary>
/// A self-service registration ("Kan vem som helst skapa ett konto?"): the address is proven by a one-time link mailed
/// to it (only the token's hash is kept), the mobile number by an SMS code, then the person chooses a password.
/// </summary>
public sealed class Registration
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public required byte[] TokenHash { get; set; }

    /// <summary>Lower-cased address the link was mailed to.</summary>
    public required string Email { get; set; }

    /// <summary>The mobile number given (E.164).</summary>
    public required string Phone { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    /// <summary>When the mailed link was used (single use); from then on the cookie carries the registration.</summary>
    public DateTime? UsedAt { get; set; }

    /// <summary>SHA-256 of the registration cookie's id (like sessions).</summary>
    public string? CookieRowId { get; set; }

    /// <summary>The pre-session row the SMS code request hangs on.</summary>
    public Guid? PreSessionId { get; set; }

    public DateTime? PhoneVerifiedAt { get; set; }
}
