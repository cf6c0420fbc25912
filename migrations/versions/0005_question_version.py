"""a version on every question, for conditional review edits

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00

- `question.version`: starts at 1 and goes up by one with every change of a
  question's data or approval. The API shows it as the question's `ETag`, and
  an edit or approval sent with `If-Match` is refused (412) when the question
  has moved on since, so two reviewers no longer overwrite each other unseen.
  Existing rows start at 1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "question",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("question", "version")
