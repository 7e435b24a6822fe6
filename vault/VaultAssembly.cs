namespace SecureMailbox.Vault;

/// <summary>Marker for the vault assembly.</summary>
public static class VaultAssembly;
