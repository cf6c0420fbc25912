"""Reads without a transaction (`single_statement`) leave none of that behind."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from quizgen.db import repository as repo
from quizgen.db.engine import make_engine, single_statement, snapshot
from quizgen.domain import BatchSpec, ModuleSpec, QuestionType, QuizSpec

pytestmark = pytest.mark.fast


async def test_a_connection_back_from_a_single_statement_read_runs_transactions_again(
    database_url: str,
) -> None:
    # One connection, so the transaction below gets the one the read used. If the read's
    # autocommit stuck to it, every `engine.begin()` after it (the trigger's row lock held
    # across the Temporal call among them) would silently commit statement by statement.
    engine = make_engine(database_url, pool_size=1)
    try:
        spec = QuizSpec(
            title="t",
            modules=[
                ModuleSpec(
                    module_id="m1",
                    name="Cells",
                    content="Cells are the basic unit of life.",
                    batches=[BatchSpec(question_type=QuestionType.TRUE_FALSE, count=1)],
                )
            ],
        )
        quiz_id = await repo.create_quiz(engine, "teacher-1", spec)
        async with single_statement(engine) as conn:
            assert (await conn.execute(sa.select(sa.func.now()))).scalar_one() is not None
        await repo.get_quiz(engine, quiz_id)
        async with engine.begin() as conn:
            # now() is the transaction's start: the same twice only inside a transaction.
            first = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
            await asyncio.sleep(0.02)
            second = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
        assert first == second
        async with single_statement(engine) as conn:
            one = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
            await asyncio.sleep(0.02)
            two = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
        # ... and a single-statement connection really is outside one (the check can fail).
        assert one != two
    finally:
        await engine.dispose()


async def test_a_snapshot_sees_one_state_however_others_write_between_its_reads(
    database_url: str,
) -> None:
    """A page and its count read apart must agree (the question list, the quiz list)."""
    engine = make_engine(database_url)
    spec = QuizSpec(
        title="Snapshot",
        modules=[
            ModuleSpec(
                module_id="m",
                name="M",
                content="Cells divide.",
                batches=[BatchSpec(question_type=QuestionType.TRUE_FALSE, count=1)],
            )
        ],
    )
    owner = "snapshot-owner"
    count = sa.text("SELECT count(*) FROM quiz WHERE owner_id = :o").bindparams(o=owner)
    try:
        async with snapshot(engine) as conn:
            before = (await conn.execute(count)).scalar_one()
            await repo.create_quiz(engine, owner, spec)  # committed by another connection
            assert (await conn.execute(count)).scalar_one() == before
        async with snapshot(engine) as conn:
            assert (await conn.execute(count)).scalar_one() == before + 1
    finally:
        await engine.dispose()
