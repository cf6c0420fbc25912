"""The LLM activity's steps, each alone, and the activity under `ActivityEnvironment`.

Pure steps (`build_request`, `check_answer`) get hand-made contexts; the steps
that heartbeat run in the SDK's `ActivityEnvironment`, on the real offline
provider and a real PostgreSQL database. No Temporal server.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities._errors import temporal_errors
from activities.generation import GenerationActivities
from activities.generation_steps import (
    MAX_AVOID_TEXTS,
    build_request,
    call_provider,
    check_answer,
    load_context,
)
from quizgen.contracts import GenerateQuestionsInput
from quizgen.db.batch_context import BatchContext
from quizgen.db.repository import ModuleContext
from quizgen.domain import (
    BatchRef,
    BatchSpec,
    Difficulty,
    Language,
    ModuleSpec,
    QuestionType,
    TokenUsage,
    Tone,
)
from quizgen.errors import (
    PermanentProviderError,
    QuizNotFoundError,
    QuizStateConflictError,
    TransientProviderError,
)
from quizgen.llm.base import GenerationRequest, GenerationResponse
from quizgen.llm.offline import OfflineProvider
from quizgen.names import (
    PERMANENT_PROVIDER_ERROR,
    QUIZ_NOT_FOUND_ERROR,
    QUIZ_NOT_GENERATABLE_ERROR,
    TRANSIENT_PROVIDER_ERROR,
)
from quizgen.questions import text_hash
from quizgen.validation import DUPLICATE_REASON, Rejection
from tests.support.flows import make_quiz, saved_batch_keys
from tests.support.samples import ENGLISH_SAMPLE

pytestmark = pytest.mark.fast

MODULE = ModuleSpec(
    module_id="bio",
    name="Biology",
    content=ENGLISH_SAMPLE,
    batches=[BatchSpec(question_type=QuestionType.TRUE_FALSE, count=4)],
)
BATCH = BatchRef.of(MODULE, MODULE.batches[0])


def _context(
    drafts: int = 0,
    similar: int = 0,
    rejected: list[Rejection] | None = None,
    saved_hashes: set[str] | None = None,
) -> BatchContext:
    return BatchContext(
        module=ModuleContext(
            module=MODULE,
            language=Language.ENGLISH,
            tone=Tone.ACADEMIC,
            llm_model=None,
            temperature=None,
        ),
        draft_texts=[f"Draft {n}?" for n in range(drafts)],
        rejected=rejected or [],
        similar_texts=[f"Similar {n}?" for n in range(similar)],
        saved_hashes=saved_hashes or set(),
        saved=False,
    )


def _input(count: int = 4, call_index: int = 0) -> GenerateQuestionsInput:
    return GenerateQuestionsInput(
        quiz_id=uuid.uuid4(), batch=BATCH, count=count, call_index=call_index
    )


def _true_false(*texts: str) -> str:
    return json.dumps(
        {
            "questions": [
                {"question_text": t, "correct_answer": True, "explanation": "Because."}
                for t in texts
            ]
        }
    )


# --- build_request -----------------------------------------------------------------------


def test_a_request_asks_only_for_what_the_batch_misses() -> None:
    request = build_request(_input(count=4), _context(drafts=3), attempt=2)

    assert request is not None
    assert (request.count, request.attempt, request.call_index) == (1, 2, 0)
    assert (request.module_name, request.content) == (MODULE.name, MODULE.content)


def test_no_request_when_the_drafts_already_fill_the_batch() -> None:
    assert build_request(_input(count=4), _context(drafts=4), attempt=1) is None


def test_the_avoid_list_keeps_drafts_and_repeats_and_the_newest_similar_texts() -> None:
    repeat = Rejection(index=0, reason=DUPLICATE_REASON, question={"question_text": "Again?"})
    context = _context(drafts=2, similar=100, rejected=[repeat])

    request = build_request(_input(), context, attempt=1)

    assert request is not None
    assert len(request.avoid_texts) == MAX_AVOID_TEXTS
    assert request.avoid_texts[:3] == ["Draft 0?", "Draft 1?", "Again?"]
    assert request.avoid_texts[-1] == "Similar 99?"
    assert "Similar 62?" not in request.avoid_texts
    assert request.repair == [repeat]


# --- check_answer ------------------------------------------------------------------------


def _request(count: int) -> GenerationRequest:
    request = build_request(_input(count=count), _context(), attempt=1)
    assert request is not None
    return request


def test_an_answer_is_cut_to_what_was_asked_for() -> None:
    raw = _true_false("One?", "Two?", "Three?")
    answer = check_answer(_request(2), GenerationResponse(raw=raw), _context())

    assert [q["question_text"] for q in answer.valid] == ["One?", "Two?"]
    assert (answer.problem, answer.repairable, answer.collisions) == (None, False, 0)


def test_a_repeat_of_another_batchs_question_is_a_collision_not_a_repair() -> None:
    context = _context(saved_hashes={text_hash("Taken?")})
    raw = _true_false("Taken?", "Fresh?")

    answer = check_answer(_request(2), GenerationResponse(raw=raw), context)

    assert [q["question_text"] for q in answer.valid] == ["Fresh?"]
    assert (answer.collisions, answer.repairable) == (1, False)
    assert answer.problem is not None and DUPLICATE_REASON in answer.problem


def test_unreadable_output_is_for_a_repair_call() -> None:
    answer = check_answer(_request(2), GenerationResponse(raw="not json"), _context())

    assert answer.valid == []
    assert answer.repairable
    assert answer.problem is not None and "JSON" in answer.problem


# --- call_provider and the error translator, in an activity context ---------------------


class _Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        raise self.error


async def test_the_offline_provider_answers_through_call_provider() -> None:
    response = await ActivityEnvironment().run(call_provider, OfflineProvider(), _request(3))

    assert len(json.loads(response.raw)["questions"]) == 3
    assert isinstance(response.usage, TokenUsage)


async def _translated(error: Exception) -> ApplicationError:
    async def run() -> None:
        with temporal_errors():
            await call_provider(_Failing(error), _request(1))

    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(run)
    return raised.value


async def test_a_transient_provider_error_is_retried_after_its_retry_after() -> None:
    err = await _translated(TransientProviderError("rate limited", retry_after_seconds=7))

    assert (err.type, err.non_retryable) == (TRANSIENT_PROVIDER_ERROR, False)
    assert err.next_retry_delay == timedelta(seconds=7)


async def test_a_permanent_provider_error_is_not_retried_and_keeps_no_chain() -> None:
    err = await _translated(PermanentProviderError("bad key"))

    assert (err.type, err.non_retryable, err.message) == (PERMANENT_PROVIDER_ERROR, True, "bad key")
    assert err.__cause__ is None


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (QuizNotFoundError("gone"), QUIZ_NOT_FOUND_ERROR),
        (QuizStateConflictError("published"), QUIZ_NOT_GENERATABLE_ERROR),
    ],
)
def test_database_refusals_are_not_retried(error: Exception, kind: str) -> None:
    with pytest.raises(ApplicationError) as raised, temporal_errors():
        raise error

    assert (raised.value.type, raised.value.non_retryable) == (kind, True)


def test_other_errors_pass_through_for_the_retry_policy() -> None:
    with pytest.raises(OSError), temporal_errors():
        raise OSError("disk")


# --- the activity on a real database ------------------------------------------------------


async def test_the_activity_saves_a_batch_its_answer_completes(engine: AsyncEngine) -> None:
    quiz_id = await make_quiz(engine, [("bio", QuestionType.TRUE_FALSE, 4, Difficulty.MEDIUM)])
    activities = GenerationActivities(engine, OfflineProvider())
    batch = (await load_context_of(engine, quiz_id)).batch
    input = GenerateQuestionsInput(quiz_id=quiz_id, batch=batch, count=4, call_index=0)

    out = await ActivityEnvironment().run(activities.generate_questions, input)

    assert (out.saved, out.drafts) == (True, 4)
    assert await saved_batch_keys(engine, quiz_id) == {batch.batch_key}
    # A retry of the same call (its report lost) finds the batch saved and asks nothing.
    again = await ActivityEnvironment().run(
        GenerationActivities(engine, _Failing(AssertionError("called"))).generate_questions,
        input,
    )
    assert (again.saved, again.tokens) == (True, TokenUsage())


async def test_the_activity_of_a_deleted_quiz_is_not_retried(engine: AsyncEngine) -> None:
    activities = GenerationActivities(engine, OfflineProvider())
    input = GenerateQuestionsInput(quiz_id=uuid.uuid4(), batch=BATCH, count=4, call_index=0)

    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activities.generate_questions, input)

    assert (raised.value.type, raised.value.non_retryable) == (QUIZ_NOT_FOUND_ERROR, True)


class _Loaded:
    def __init__(self, batch: BatchRef, context: BatchContext) -> None:
        self.batch, self.context = batch, context


async def load_context_of(engine: AsyncEngine, quiz_id: uuid.UUID) -> _Loaded:
    batch = BatchRef(
        batch_key="bio_true_false_4_medium",
        module_id="bio",
        question_type=QuestionType.TRUE_FALSE,
        count=4,
        difficulty=Difficulty.MEDIUM,
    )
    context = await ActivityEnvironment().run(load_context, engine, quiz_id, batch)
    assert not context.saved and context.draft_texts == []
    return _Loaded(batch, context)
