namespace SecureMailbox.Vault.Crypto.KeyWrapping;

/// <summary>
/// A wrapped key could not be unwrapped. Deliberately one message for a wrong password or secret, a damaged
/// blob, and a blob bound to another purpose or key id, so the failure tells an attacker nothing more.
/// </summary>
public sealed class KeyUnwrapException : Exception
{
    private const string DefaultMessage = "The key could not be unwrapped: wrong password or secret, or the wrapped key is damaged or belongs elsewhere.";

    public KeyUnwrapException()
        : base(DefaultMessage)
    {
    }

    public KeyUnwrapException(string message)
        : base(message)
    {
    }

    public KeyUnwrapException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
