"""sessions of the review pages ended by signing out

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:05:00

- `ended_session`: the nonce of a review-page session whose teacher signed
  out, until the session would have expired: its signed cookie, if copied,
  is refused from then on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from quizgen.db.downgrades import refuse_unless_forced

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ended_session",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )


def downgrade() -> None:
    refuse_unless_forced(
        "SELECT count(*) FROM ended_session WHERE expires_at > now()",
        "revive signed-out review sessions whose cookies have not expired yet",
    )
    op.drop_table("ended_session")
