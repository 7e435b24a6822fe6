using Microsoft.EntityFrameworkCore;
using SecureMailbox.Vault.Accounts;
using SecureMailbox.Vault.Messages;
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

    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<AccountKey> AccountKeys => Set<AccountKey>();

    public DbSet<Organisation> Organisations => Set<Organisation>();

    public DbSet<OrganisationDomain> OrganisationDomains => Set<OrganisationDomain>();

    public DbSet<SenderMonthlyCount> SenderMonthlyCounts => Set<SenderMonthlyCount>();

    public DbSet<VaultMessage> Messages => Set<VaultMessage>();

    public DbSet<MailboxItem> MailboxItems => Set<MailboxItem>();

    public DbSet<NotificationLink> Links => Set<NotificationLink>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<Account>(e =>
        {
            e.HasKey(a => a.Id);
            e.Property(a => a.Email).HasMaxLength(320);
            e.HasIndex(a => a.Email).IsUnique();
            e.Property(a => a.State).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.Plan).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.PublicKey).HasMaxLength(100);
            e.Property(a => a.Phone).HasMaxLength(20);
            e.Property(a => a.BackupPhone).HasMaxLength(20);
            e.Property(a => a.Region).HasMaxLength(16);
            e.Property(a => a.Language).HasMaxLength(8);
        });
        modelBuilder.Entity<AccountKey>(e =>
        {
            e.HasKey(k => k.Id);
            e.Property(k => k.Kind).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(k => k.AccountId);
            e.HasOne<Account>().WithMany().HasForeignKey(k => k.AccountId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Organisation>(e =>
        {
            e.HasKey(o => o.Id);
            e.Property(o => o.Name).HasMaxLength(200);
            e.HasIndex(o => o.Name).IsUnique();
            e.Property(o => o.Region).HasMaxLength(16);
            e.HasMany(o => o.Domains).WithOne().HasForeignKey(d => d.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<OrganisationDomain>(e =>
        {
            e.HasKey(d => d.Id);
            e.Property(d => d.Domain).HasMaxLength(253);
            e.HasIndex(d => d.Domain).IsUnique();
        });
        modelBuilder.Entity<SenderMonthlyCount>(e =>
        {
            e.HasKey(c => new { c.AccountId, c.Month });
            e.Property(c => c.Month).HasMaxLength(7);
        });
        modelBuilder.Entity<VaultMessage>(e =>
        {
            e.HasKey(m => m.Id);
            e.Property(m => m.Region).HasMaxLength(16);
            e.Property(m => m.BlobName).HasMaxLength(64);
            e.HasIndex(m => m.SenderAccountId);
        });
        modelBuilder.Entity<MailboxItem>(e =>
        {
            e.HasKey(i => i.Id);
            e.Property(i => i.Folder).HasConversion<string>().HasMaxLength(8);
            e.Property(i => i.PreviousFolder).HasConversion<string>().HasMaxLength(8);
            e.HasIndex(i => new { i.AccountId, i.Folder });
            e.HasIndex(i => i.MessageId);
            e.HasOne<Account>().WithMany().HasForeignKey(i => i.AccountId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<VaultMessage>().WithMany().HasForeignKey(i => i.MessageId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<NotificationLink>(e =>
        {
            e.HasKey(l => l.Id);
            e.HasIndex(l => l.TokenHash).IsUnique();
            e.Property(l => l.Purpose).HasConversion<string>().HasMaxLength(24);
            e.Property(l => l.PublicKey).HasMaxLength(100);
            e.Property(l => l.Phone).HasMaxLength(20);
            e.HasIndex(l => l.AccountId);
            e.HasOne<Account>().WithMany().HasForeignKey(l => l.AccountId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<VaultMessage>().WithMany().HasForeignKey(l => l.MessageId).OnDelete(DeleteBehavior.Cascade);
        });
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
            e.Property(m => m.LeaseOwner).HasMaxLength(128);
            e.Property(m => m.LeaseStartId).HasMaxLength(64);
            e.Property(m => m.LastError).HasMaxLength(2048);
            e.HasIndex(m => m.NextAttemptAt);
            e.HasIndex(m => m.LeaseToken);
            e.HasIndex(m => m.LeaseOwner);
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
