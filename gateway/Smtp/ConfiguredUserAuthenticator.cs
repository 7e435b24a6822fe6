using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Authentication;

namespace SecureMailbox.Gateway.Smtp;

/// <summary>SMTP AUTH against the configured users (offered only after STARTTLS).</summary>
internal sealed class ConfiguredUserAuthenticator(IOptions<SmtpOptions> options, ILogger<ConfiguredUserAuthenticator> logger) : IUserAuthenticator
{
    public Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        var entry = options.Value.Users.FirstOrDefault(u => string.Equals(u.Name, user, StringComparison.Ordinal));
        // Verify against a dummy hash for unknown users so timing does not reveal which names exist.
        var ok = PasswordHash.Verify(password, entry?.PasswordHash ?? PasswordHash.Dummy) && entry is not null;
        if (ok && context.Pipe is SmtpConnection connection)
        {
            connection.AuthenticatedUser = user;
        }
        if (!ok)
        {
            logger.LogWarning("SMTP AUTH failed for a user name of {Length} characters", user.Length);
        }
        return Task.FromResult(ok);
    }
}

/// <summary>PBKDF2-SHA256 password hashes for SMTP users: <c>pbkdf2-sha256$iterations$salt$hash</c>.</summary>
public static class PasswordHash
{
    private const int Iterations = 600_000;

    internal static readonly string Dummy = Create("dummy-password-never-used");

    public static string Create(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool Verify(string password, string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], out var iterations) || iterations < 100_000)
        {
            return false;
        }
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var expected = Convert.FromBase64String(parts[3]);
            var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
