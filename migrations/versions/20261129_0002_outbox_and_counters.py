"""outbox and counters: one durable outbox (nudges move into it), incident numbers from a counter

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHARED = (
    "key, incident_id, kind, due_at, target, thread_ts, text, blocks, created_at, sent_at, "
    "channel_id, ts, attempts, next_attempt_at, last_error"
)


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.execute(
        "INSERT INTO counters (name, value) "
        "SELECT 'incident_number', COALESCE(MAX(number), 0) FROM incidents"
    )
    op.create_table(
        "outbox",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("due_at", bot.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("file_title", sa.String(length=300), nullable=True),
        sa.Column("file_content", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", bot.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_outbox_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_incident_kind_due", ["incident_id", "kind", "due_at"], unique=False
        )
        batch_op.create_index("ix_outbox_pending", ["sent_at", "next_attempt_at"], unique=False)
    op.execute(f"INSERT INTO outbox ({_SHARED}) SELECT {_SHARED} FROM nudge_deliveries")
    with op.batch_alter_table("nudge_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_nudge_deliveries_pending")
        batch_op.drop_index("ix_nudge_deliveries_incident_kind_due")
    op.drop_table("nudge_deliveries")


def downgrade() -> None:
    op.create_table(
        "nudge_deliveries",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", bot.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("created_at", bot.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", bot.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_nudge_deliveries_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_nudge_deliveries")),
    )
    with op.batch_alter_table("nudge_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nudge_deliveries_incident_kind_due", ["incident_id", "kind", "due_at"], unique=False
        )
        batch_op.create_index(
            "ix_nudge_deliveries_pending", ["sent_at", "next_attempt_at"], unique=False
        )
    # Only nudges lived in the old table; other side effects are lost on a downgrade.
    op.execute(
        f"INSERT INTO nudge_deliveries ({_SHARED}) SELECT {_SHARED} FROM outbox "
        "WHERE kind IN ('update', 'update_escalation', 'schedule', 'schedule_dm', "
        "'complete', 'reminder') AND incident_id IS NOT NULL AND length(key) <= 120"
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.drop_index("ix_outbox_incident_kind_due")
    op.drop_table("outbox")
    op.drop_table("counters")
