namespace SecureMailbox.Portal.Localization;

/// <summary>The portal's texts: <c>Resources/Localization/SharedResource.resx</c> (Swedish, the default) and <c>.en.resx</c>.</summary>
public sealed class SharedResource;
