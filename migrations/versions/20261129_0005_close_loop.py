"""follow-up snoozes and Notion pages; private and security incidents

Revision ID: close01
Revises: notion01
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "close01"
down_revision: str | None = "notion01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(
            sa.Column("snoozed_until", bot.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("notion_page_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("notion_url", sa.String(length=500), nullable=True))
        batch.add_column(
            sa.Column("notion_pending", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("is_private", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("is_security", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("is_security")
        batch.drop_column("is_private")
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("notion_pending")
        batch.drop_column("notion_url")
        batch.drop_column("notion_page_id")
        batch.drop_column("snoozed_until")
