namespace SecureMailbox.Vault.Crypto.KeyWrapping;

/// <summary>
/// Argon2id (version 1.3) cost parameters, stored with each password-wrapped key so they can be raised for
/// new keys while old ones still unwrap.
/// </summary>
/// <param name="MemoryKiB">Memory in KiB.</param>
/// <param name="Iterations">Passes over memory.</param>
/// <param name="Parallelism">Lanes.</param>
public sealed record Argon2idParameters(int MemoryKiB, int Iterations, int Parallelism)
{
    /// <summary>OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1 (docs/rules.md A1/A2).</summary>
    public static Argon2idParameters Minimum { get; } = new(19 * 1024, 2, 1);

    /// <summary>What new keys are wrapped with.</summary>
    public static Argon2idParameters Default { get; } = Minimum;

    // Caps for parameters read from storage, so a forged blob cannot make the server allocate gigabytes.
    internal const int MaxMemoryKiB = 1024 * 1024;
    internal const int MaxIterations = 64;
    internal const int MaxParallelism = 16;

    /// <summary>True when every parameter is at least the <see cref="Minimum"/> one and within the vault's caps.</summary>
    public bool IsAcceptable =>
        MemoryKiB >= Minimum.MemoryKiB && MemoryKiB <= MaxMemoryKiB &&
        Iterations >= Minimum.Iterations && Iterations <= MaxIterations &&
        Parallelism >= Minimum.Parallelism && Parallelism <= MaxParallelism &&
        MemoryKiB >= 8 * Parallelism;

    /// <summary>True when memory or iterations are below <paramref name="target"/>'s (time to re-wrap after the next unwrap).</summary>
    public bool IsWeakerThan(Argon2idParameters target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return MemoryKiB < target.MemoryKiB || Iterations < target.Iterations;
    }
}
