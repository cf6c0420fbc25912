"""Downgrades that would lose what users rely on refuse unless forced.

A migration's `downgrade()` calls `refuse_unless_forced` before it drops
anything that matters: ended sessions (dropping them revives every
signed-out session whose cookie has not expired), drafts (questions paid for
and not yet saved). `alembic -x force=true downgrade <rev>` goes ahead anyway.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

__all__ = ["refuse_unless_forced"]

_YES = frozenset({"1", "true", "yes"})


def refuse_unless_forced(count_sql: str, consequence: str) -> None:
    """Stop the downgrade when `count_sql` counts any row, saying `consequence`."""
    if context.get_x_argument(as_dictionary=True).get("force", "").lower() in _YES:
        return
    count = op.get_bind().scalar(sa.text(count_sql))
    if count:
        raise RuntimeError(
            f"refusing to downgrade: it would {consequence} ({count} rows); "
            "run `alembic -x force=true downgrade ...` to do it anyway"
        )
