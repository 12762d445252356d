"""shared Notion request slots; postmortem appends awaiting an answer

Revision ID: notion01
Revises: review01
Create Date: 2026-11-29 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notion01"
down_revision: str | None = "review01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_slots",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_request_slots")),
    )
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_append", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.drop_column("pending_append")
    op.drop_table("request_slots")
