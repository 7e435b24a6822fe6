using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SecureMailbox.Vault.Data.Migrations
{
    /// <inheritdoc />
    public partial class QueueLeaseOwners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "FinishedAt",
                table: "OutboundMessages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "HeldAt",
                table: "OutboundMessages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseOwner",
                table: "OutboundMessages",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseStartId",
                table: "OutboundMessages",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutboundMessages_LeaseOwner",
                table: "OutboundMessages",
                column: "LeaseOwner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_OutboundMessages_LeaseOwner",
                table: "OutboundMessages");

            migrationBuilder.DropColumn(
                name: "FinishedAt",
                table: "OutboundMessages");

            migrationBuilder.DropColumn(
                name: "HeldAt",
                table: "OutboundMessages");

            migrationBuilder.DropColumn(
                name: "LeaseOwner",
                table: "OutboundMessages");

            migrationBuilder.DropColumn(
                name: "LeaseStartId",
                table: "OutboundMessages");
        }
    }
}
