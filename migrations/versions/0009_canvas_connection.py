"""each teacher's Canvas connection, the token encrypted

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:45:00

- `canvas_connection`: per teacher, their Canvas user and their access token as
  Fernet ciphertext (CANVAS_TOKEN_KEYS); never the token in clear.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canvas_connection",
        sa.Column("owner_id", sa.String(length=100), nullable=False),
        sa.Column("canvas_user_id", sa.String(length=64), nullable=False),
        sa.Column("canvas_user_name", sa.String(length=255), nullable=False),
        sa.Column("token_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_id"),
    )


def downgrade() -> None:
    op.drop_table("canvas_connection")
