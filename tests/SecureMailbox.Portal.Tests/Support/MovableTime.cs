namespace SecureMailbox.Portal.Tests.Support;

/// <summary>A clock tests move instead of sleeping.</summary>
public sealed class MovableTime : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
