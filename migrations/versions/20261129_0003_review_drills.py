"""the incident review (drills, meeting booking time, scheduled runs) and follow-ups

Revision ID: review01
Revises: 0002
Create Date: 2026-11-29 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "review01"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ticket_url", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", bot.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_follow_ups_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("request_key", name=op.f("uq_follow_ups_request_key")),
    )
    op.create_index(op.f("ix_follow_ups_incident_id"), "follow_ups", ["incident_id"], unique=False)
    op.create_index(op.f("ix_follow_ups_created_at"), "follow_ups", ["created_at"], unique=False)
    op.create_index(
        "ix_follow_ups_owner_status", "follow_ups", ["owner_id", "status"], unique=False
    )
    op.create_table(
        "incident_review_runs",
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("due_at", bot.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("posted_at", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_key", name=op.f("pk_incident_review_runs")),
    )
    op.create_index(
        op.f("ix_incident_review_runs_posted_at"),
        "incident_review_runs",
        ["posted_at"],
        unique=False,
    )
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("is_drill", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("postmortems") as batch:
        batch.add_column(
            sa.Column("meeting_booked_at", bot.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("postmortems") as batch:
        batch.drop_column("meeting_booked_at")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("is_drill")
    op.drop_index(op.f("ix_incident_review_runs_posted_at"), table_name="incident_review_runs")
    op.drop_table("incident_review_runs")
    op.drop_index("ix_follow_ups_owner_status", table_name="follow_ups")
    op.drop_index(op.f("ix_follow_ups_created_at"), table_name="follow_ups")
    op.drop_index(op.f("ix_follow_ups_incident_id"), table_name="follow_ups")
    op.drop_table("follow_ups")
