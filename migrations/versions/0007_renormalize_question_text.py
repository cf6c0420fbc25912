"""question texts compared as quizgen.questions.normalize_text now does

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:35:00

Since this release invisible characters (zero-width, soft hyphen, bidi controls:
quizgen/text.py) are dropped before a question's text is normalised, and a
combining mark NFKC leaves separate stays in its word. Rows saved before keep
their old `normalized_text` / `text_hash` for texts with such characters, so a
new question differing only by them could slip past "no two questions with the
same text in a quiz". This recomputes them in Python (SQL cannot), for saved
questions and valid drafts. A row whose new hash another row of its quiz (or
batch, for drafts) already holds keeps its old one: validated questions are
never deleted by a migration, and both stay as they were saved.

Downgrade changes nothing: the earlier release compares new rows by its own
rule and old rows keep either value.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from quizgen.questions import normalize_text, text_hash

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _rows(conn: sa.Connection, sql: str) -> Iterator[Any]:
    """The rows of `sql` (which selects `id` first and has no WHERE of its own), a
    thousand at a time by id: no server-side cursor, which would stay open in the
    transaction and make PostgreSQL refuse a later migration's ALTER TABLE."""
    last: Any = None
    while True:
        where = "" if last is None else " WHERE id > :last"
        page = conn.execute(
            sa.text(f"{sql}{where} ORDER BY id LIMIT {_BATCH}"), {"last": last}
        ).all()
        if not page:
            return
        yield from page
        last = page[-1].id


def upgrade() -> None:
    conn = op.get_bind()
    questions = {
        (row.quiz_id, row.text_hash)
        for row in conn.execute(sa.text("SELECT quiz_id, text_hash FROM question"))
    }
    changed = []
    for row in _rows(
        conn,
        "SELECT id, quiz_id, question_data->>'question_text' AS text, text_hash FROM question",
    ):
        new = text_hash(row.text)
        if new != row.text_hash and (row.quiz_id, new) not in questions:
            questions.add((row.quiz_id, new))
            changed.append({"id": row.id, "n": normalize_text(row.text), "h": new})
    for start in range(0, len(changed), _BATCH):
        conn.execute(
            sa.text("UPDATE question SET normalized_text = :n, text_hash = :h WHERE id = :id"),
            changed[start : start + _BATCH],
        )

    drafts = {
        (row.quiz_id, row.batch_key, row.text_hash)
        for row in conn.execute(
            sa.text(
                "SELECT quiz_id, batch_key, text_hash FROM draft_question "
                "WHERE rejection IS NULL AND text_hash IS NOT NULL"
            )
        )
    }
    changed = []
    for row in _rows(
        conn,
        "SELECT * FROM (SELECT id, quiz_id, batch_key, question_data->>'question_text' AS text,"
        " text_hash FROM draft_question WHERE rejection IS NULL AND text_hash IS NOT NULL) d",
    ):
        new = text_hash(row.text)
        if new != row.text_hash and (row.quiz_id, row.batch_key, new) not in drafts:
            drafts.add((row.quiz_id, row.batch_key, new))
            changed.append({"id": row.id, "h": new})
    for start in range(0, len(changed), _BATCH):
        conn.execute(
            sa.text("UPDATE draft_question SET text_hash = :h WHERE id = :id"),
            changed[start : start + _BATCH],
        )


def downgrade() -> None:
    pass
