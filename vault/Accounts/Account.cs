namespace SecureMailbox.Vault.Accounts;

/// <summary>Where an account is in its life.</summary>
public enum AccountState
{
    /// <summary>Created by mail to or from the address; no password yet. Its messages wait behind link keys.</summary>
    Pending,

    /// <summary>The person verified and chose a password; the account has its own key pair.</summary>
    Active,
}

/// <summary>What the account pays for (Basic is free; Professional is paid).</summary>
public enum Plan
{
    /// <summary>Free: read and reply.</summary>
    Basic,

    /// <summary>Paid: compose, 2,500 messages a month, attachments up to 500 MB.</summary>
    Professional,
}

/// <summary>
/// A person's account, keyed by e-mail address. The private key is never stored here in clear: only wrapped
/// (<see cref="AccountKey"/>), so a copy of the database reads no mail.
/// </summary>
public sealed class Account
{
    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>The address, lower-cased (the key people are found by).</summary>
    public required string Email { get; set; }

    public AccountState State { get; set; }

    /// <summary>The age recipient (<c>age1…</c>) of the account's key pair; null while pending.</summary>
    public string? PublicKey { get; set; }

    /// <summary>Mobile number in E.164, for SMS codes.</summary>
    public string? Phone { get; set; }

    /// <summary>An optional second mobile number (E.164), verified by SMS, usable wherever <see cref="Phone"/> is.</summary>
    public string? BackupPhone { get; set; }

    /// <summary>The organisation the address belongs to, if any.</summary>
    public Guid? OrganisationId { get; set; }

    /// <summary>Storage region of a private account (an organisation's own region wins).</summary>
    public string Region { get; set; } = "se";

    /// <summary>Language for notifications and the portal: <c>sv</c> (default) or <c>en</c>.</summary>
    public string Language { get; set; } = "sv";

    /// <summary>Whether notifications may show the subject (neutral by default, docs/rules.md E6).</summary>
    public bool ShowSubjectInNotifications { get; set; }

    public Plan Plan { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>Why a copy of an account's private key is wrapped.</summary>
public enum AccountKeyKind
{
    Password,
    BackupCode,
    Recovery,
}

/// <summary>One wrapped copy of an account's private key (docs/rules.md property 2).</summary>
public sealed class AccountKey
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid AccountId { get; set; }

    public AccountKeyKind Kind { get; set; }

    /// <summary>The wrapped key blob (see <see cref="Crypto.KeyWrapping.PrivateKeyWrap"/>).</summary>
    public required byte[] WrappedKey { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>An organisation: its mail domains and the region its messages are stored in.</summary>
public sealed class Organisation
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public required string Name { get; set; }

    public string Region { get; set; } = "se";

    /// <summary>Whether senders get a "sent securely" receipt (which also activates a new sender's account).</summary>
    public bool SendReceipts { get; set; } = true;

    public List<OrganisationDomain> Domains { get; set; } = [];
}

/// <summary>A mail domain of an organisation; unique across organisations.</summary>
public sealed class OrganisationDomain
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid OrganisationId { get; set; }

    /// <summary>Lower-cased domain.</summary>
    public required string Domain { get; set; }
}

/// <summary>Secure messages sent by an account in a month (plans use it).</summary>
public sealed class SenderMonthlyCount
{
    public Guid AccountId { get; set; }

    /// <summary>The month as <c>yyyy-MM</c> (UTC).</summary>
    public required string Month { get; set; }

    public int Count { get; set; }
}
