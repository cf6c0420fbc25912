"""sign in with Canvas: the refresh token (encrypted) and the access token's expiry

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-14 10:00:00

- `canvas_connection.refresh_token_ciphertext`: Fernet ciphertext (CANVAS_TOKEN_KEYS) of
  the OAuth2 refresh token; NULL for a pasted personal access token.
- `canvas_connection.expires_at`: when the access token expires (Canvas: "Developer keys
  issued after Oct 2015 generate tokens with a 1 hour expiration"); NULL: no known expiry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "canvas_connection", sa.Column("refresh_token_ciphertext", sa.LargeBinary(), nullable=True)
    )
    op.add_column(
        "canvas_connection", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("canvas_connection", "expires_at")
    op.drop_column("canvas_connection", "refresh_token_ciphertext")
