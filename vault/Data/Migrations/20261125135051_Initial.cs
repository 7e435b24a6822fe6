using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SecureMailbox.Vault.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "OutboundMessages",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    EnvelopeFrom = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    EnvelopeId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    Ret = table.Column<string>(type: "TEXT", maxLength: 8, nullable: true),
                    EightBitMime = table.Column<bool>(type: "INTEGER", nullable: false),
                    ContentPath = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    ContentOffset = table.Column<long>(type: "INTEGER", nullable: false),
                    ContentLength = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    NextAttemptAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LeaseToken = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    LeaseExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OutboundMessages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "OutboundRecipients",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    MessageId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Address = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    LastResponse = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    CompletedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OutboundRecipients", x => x.Id);
                    table.ForeignKey(
                        name: "FK_OutboundRecipients_OutboundMessages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "OutboundMessages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_LeaseToken",
                table: "OutboundMessages",
                column: "LeaseToken");

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_NextAttemptAt",
                table: "OutboundMessages",
                column: "NextAttemptAt");

            migrationBuilder.CreateIndex(
                name: "IX_OutboundRecipients_MessageId",
                table: "OutboundRecipients",
                column: "MessageId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "OutboundRecipients");

            migrationBuilder.DropTable(
                name: "OutboundMessages");
        }
    }
}
