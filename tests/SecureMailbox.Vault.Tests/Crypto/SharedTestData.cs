namespace SecureMailbox.Vault.Tests.Crypto;

/// <summary>Finds <c>shared/testdata</c>, which sits beside the repository clone (locally and in CI).</summary>
internal static class SharedTestData
{
    public static string AgeVectorsDirectory => s_ageVectors.Value;

    private static readonly Lazy<string> s_ageVectors = new(() => Find(Path.Combine("shared", "testdata", "age")));

    private static string Find(string relative)
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SecureMailbox.sln")) && dir.Parent is not null)
            {
                var candidate = Path.Combine(dir.Parent.FullName, relative);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"'{relative}' was not found beside the repository root (the folder holding SecureMailbox.sln), " +
            $"walking up from {TestContext.CurrentContext.TestDirectory}. Clone the shared test data next to the repository.");
    }
}
