using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace SecureMailbox.Vault.Outbound;

/// <summary>
/// Who holds a queue lease: a stable instance id (configuration <c>Queue:InstanceId</c>, by default the host name)
/// and an id for this start of the process. A lease carrying this instance's id but another start id belongs to a
/// process of this instance that has died, so the instance releases it at once when it starts.
/// </summary>
public sealed class QueueInstance(IOptions<QueueOptions> options)
{
    /// <summary>The instance id: the same across restarts, different for every instance sharing the database.</summary>
    public string InstanceId { get; } = string.IsNullOrWhiteSpace(options.Value.InstanceId) ? Environment.MachineName : options.Value.InstanceId.Trim();

    /// <summary>A new id for every start of the process.</summary>
    public string StartId { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <inheritdoc />
    public override string ToString() => $"{InstanceId}/{StartId}";
}
