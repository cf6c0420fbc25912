"""questions each teacher's rounds may generate, per day

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:15:00

- `generation_usage`: per teacher and UTC day, the questions their triggered
  rounds were allowed to generate (QUOTA_QUESTIONS_PER_DAY).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generation_usage",
        sa.Column("owner_id", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("generation_usage")
