using Microsoft.Extensions.Localization;

// The vault's texts (mails) live under Resources/, whatever ResourcesPath the host configures for its own.
[assembly: ResourceLocation("Resources")]
