"""drafts, a row per generation attempt, question uniqueness by text hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 07:40:00

- `draft_question`: valid questions of unfinished batches (and rejected ones
  awaiting repair) live here instead of in workflow history.
- `generation_attempt`: one row per round, moved out of the ever-growing
  `quiz.generation_metadata` document (which is dropped; the API assembles
  the same shape from the rows).
- `question.text_hash`: uniqueness of question text per quiz by SHA-256 of
  the normalised text, because a B-tree over 2,000-character texts overflows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from quizgen.db.downgrades import refuse_unless_forced

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("question", sa.Column("text_hash", sa.String(length=64), nullable=True))
    # The same value quizgen.questions.text_hash computes in Python.
    op.execute(
        "UPDATE question SET text_hash = encode(sha256(convert_to(normalized_text, 'UTF8')), 'hex')"
    )
    op.alter_column("question", "text_hash", nullable=False)
    op.drop_constraint("uq_question_quiz_text", "question", type_="unique")
    op.create_unique_constraint("uq_question_quiz_text_hash", "question", ["quiz_id", "text_hash"])

    op.create_table(
        "draft_question",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("batch_key", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("text_hash", sa.String(length=64), nullable=True),
        sa.Column("rejection", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["quiz_id"], ["quiz.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_draft_question_quiz_batch", "draft_question", ["quiz_id", "batch_key"], unique=False
    )
    op.create_index(
        "uq_draft_question_batch_text",
        "draft_question",
        ["quiz_id", "batch_key", "text_hash"],
        unique=True,
        postgresql_where=sa.text("rejection IS NULL"),
    )

    op.create_table(
        "generation_attempt",
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("round_id", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overall_status", sa.String(length=32), nullable=False),
        sa.Column("batch_results", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_prompt_tokens", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["quiz_id"], ["quiz.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("quiz_id", "attempt_number"),
        sa.UniqueConstraint("quiz_id", "round_id", name="uq_generation_attempt_round"),
    )
    # Earlier rounds move from the metadata document into rows.
    op.execute(
        """
        INSERT INTO generation_attempt (quiz_id, attempt_number, round_id, started_at,
            finished_at, overall_status, batch_results, prompt_tokens, completion_tokens,
            cached_prompt_tokens)
        SELECT q.id, (a->>'attempt_number')::int, 'migrated-' || (a->>'attempt_number'),
            (a->>'started_at')::timestamptz, (a->>'finished_at')::timestamptz,
            a->>'overall_status', COALESCE(a->'batch_results', '{}'::jsonb),
            COALESCE((a->'tokens'->>'prompt_tokens')::bigint, 0),
            COALESCE((a->'tokens'->>'completion_tokens')::bigint, 0), 0
        FROM quiz q, jsonb_array_elements(q.generation_metadata->'generation_attempts') a
        """
    )
    op.drop_column("quiz", "generation_metadata")


def downgrade() -> None:
    refuse_unless_forced(
        "SELECT count(*) FROM draft_question",
        "delete drafts: valid questions of unfinished batches, paid for and not yet saved",
    )
    op.add_column(
        "quiz",
        sa.Column(
            "generation_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.alter_column("quiz", "generation_metadata", server_default=None)
    # The document the earlier release reads: no cached tokens (its models
    # forbid unknown fields), summary fields rebuilt from the saved batches.
    op.execute(
        """
        UPDATE quiz q SET generation_metadata = jsonb_build_object(
            'generation_attempts', COALESCE((
                SELECT jsonb_agg(jsonb_build_object(
                    'attempt_number', a.attempt_number, 'started_at', a.started_at,
                    'finished_at', a.finished_at, 'overall_status', a.overall_status,
                    'batch_results', COALESCE((
                        SELECT jsonb_object_agg(r.key, r.value #- '{tokens,cached_prompt_tokens}')
                        FROM jsonb_each(a.batch_results) r), '{}'::jsonb),
                    'tokens', jsonb_build_object('prompt_tokens', a.prompt_tokens,
                                                 'completion_tokens', a.completion_tokens))
                    ORDER BY a.attempt_number)
                FROM generation_attempt a WHERE a.quiz_id = q.id), '[]'::jsonb),
            'successful_batches', COALESCE((
                SELECT jsonb_agg(s.batch_key ORDER BY s.batch_key)
                FROM saved_batch s WHERE s.quiz_id = q.id), '[]'::jsonb),
            'total_questions_saved', (
                SELECT COALESCE(sum(s.question_count), 0) FROM saved_batch s
                WHERE s.quiz_id = q.id),
            'total_questions_target', (
                SELECT COALESCE(sum((b->>'count')::int), 0)
                FROM quiz_module m, jsonb_array_elements(m.batches) b WHERE m.quiz_id = q.id),
            'tokens', jsonb_build_object(
                'prompt_tokens', (SELECT COALESCE(sum(a.prompt_tokens), 0)
                                  FROM generation_attempt a WHERE a.quiz_id = q.id),
                'completion_tokens', (SELECT COALESCE(sum(a.completion_tokens), 0)
                                      FROM generation_attempt a WHERE a.quiz_id = q.id)))
        """
    )
    op.drop_table("generation_attempt")
    op.drop_index("uq_draft_question_batch_text", table_name="draft_question")
    op.drop_index("ix_draft_question_quiz_batch", table_name="draft_question")
    op.drop_table("draft_question")
    op.drop_constraint("uq_question_quiz_text_hash", "question", type_="unique")
    # Texts too long for the old index cannot come back under it.
    op.create_unique_constraint("uq_question_quiz_text", "question", ["quiz_id", "normalized_text"])
    op.drop_column("question", "text_hash")
