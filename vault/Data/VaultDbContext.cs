using Microsoft.EntityFrameworkCore;
using SecureMailbox.Vault.Outbound;

namespace SecureMailbox.Vault.Data;

/// <summary>
/// The database both services share. The model is kept provider-neutral (no provider-specific column
/// types) so that SQLite and PostgreSQL run the same model.
/// </summary>
public sealed class VaultDbContext(DbContextOptions<VaultDbContext> options) : DbContext(options)
{
    /// <summary>Messages waiting for (or in) delivery to the next hop.</summary>
    public DbSet<OutboundMessage> OutboundMessages => Set<OutboundMessage>();

    /// <summary>One row per envelope recipient of an outbound message.</summary>
    public DbSet<OutboundRecipient> OutboundRecipients => Set<OutboundRecipient>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<OutboundMessage>(e =>
        {
            e.HasKey(m => m.Id);
            e.Property(m => m.Id).HasMaxLength(64);
            e.Property(m => m.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(m => m.EnvelopeFrom).HasMaxLength(512);
            e.Property(m => m.EnvelopeId).HasMaxLength(128);
            e.Property(m => m.Ret).HasMaxLength(8);
            e.Property(m => m.ContentPath).HasMaxLength(1024);
            e.Property(m => m.LeaseToken).HasMaxLength(64);
            e.Property(m => m.LastError).HasMaxLength(2048);
            e.HasIndex(m => m.NextAttemptAt);
            e.HasIndex(m => m.LeaseToken);
            e.HasMany(m => m.Recipients).WithOne().HasForeignKey(r => r.MessageId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<OutboundRecipient>(e =>
        {
            e.HasKey(r => r.Id);
            e.Property(r => r.MessageId).HasMaxLength(64);
            e.Property(r => r.Address).HasMaxLength(512);
            e.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
            e.Property(r => r.LastResponse).HasMaxLength(2048);
        });
    }
}
