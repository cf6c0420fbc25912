"""In-memory stand-ins for the four activities the workflows call by name.

`StubBackend` plays PostgreSQL and the LLM at once: which batches are saved,
how many drafts each holds, and a script of what each `generate_questions`
call of a batch answers. It returns the real contract types, so the real
workflows run unchanged against it; Temporal itself (retries, timeouts,
child ids, signals, queries) is the real, time-skipping test server.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from temporalio import activity
from temporalio.exceptions import ApplicationError

from quizgen.contracts import (
    BatchState,
    GeneratedQuestions,
    GenerateQuestionsInput,
    QuizPlan,
    RecordRoundInput,
    RoundRecorded,
    SaveBatchInput,
    SaveBatchOutput,
)
from quizgen.domain import (
    BatchRef,
    BatchStatus,
    Difficulty,
    QuestionType,
    QuizStatus,
    TokenUsage,
    batch_key,
)
from quizgen.names import (
    GENERATE_QUESTIONS_ACTIVITY,
    PERMANENT_PROVIDER_ERROR,
    QUIZ_NOT_FOUND_ERROR,
    RECORD_ROUND_ACTIVITY,
    SAVE_BATCH_ACTIVITY,
    START_ROUND_ACTIVITY,
    TRANSIENT_PROVIDER_ERROR,
)

PERMANENT_MESSAGE = "provider refused the request (400 bad request)"
TRANSIENT_MESSAGE = "provider rate limited the request (429)"
# The delay a transient error asks for: long in workflow time, nothing in wall time.
TRANSIENT_DELAY = timedelta(seconds=45)


class Fault(StrEnum):
    """An LLM call that raises instead of answering."""

    # Typed as permanent but not marked non-retryable: the retry policy must stop it.
    PERMANENT = "permanent"
    # Retryable, with its own `next_retry_delay` (like a 429 with Retry-After).
    TRANSIENT = "transient"


@dataclass(frozen=True)
class Answer:
    """An LLM answer bringing `valid` new valid questions (at most what was asked)."""

    valid: int
    repairable: bool = True


Step = int | Answer | Fault


@dataclass(frozen=True)
class Call:
    batch_key: str
    count: int
    call_index: int
    attempt: int


def make_ref(module_id: str, question_type: QuestionType, count: int) -> BatchRef:
    return BatchRef(
        batch_key=batch_key(module_id, question_type, count, Difficulty.MEDIUM),
        module_id=module_id,
        question_type=question_type,
        count=count,
        difficulty=Difficulty.MEDIUM,
    )


@dataclass
class StubBackend:
    refs: list[BatchRef]
    quiz_id: uuid.UUID = field(default_factory=uuid.uuid4)
    # What each batch's generate calls answer, in order; when used up: all that is asked.
    script: dict[str, list[Step]] = field(default_factory=dict)
    saved: set[str] = field(default_factory=set)
    drafts: dict[str, int] = field(default_factory=dict)
    # A batch whose next save finds that many of its drafts saved by another batch first.
    collisions: dict[str, int] = field(default_factory=dict)
    # Generate calls of a batch wait for its event (to hold a round open).
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    # A stale plan reports every batch as pending, saved or not (a racing reader).
    stale_plan: bool = False
    calls: list[Call] = field(default_factory=list)
    saves: list[str] = field(default_factory=list)
    plans: int = 0
    rounds: list[RecordRoundInput] = field(default_factory=list)

    @property
    def target(self) -> int:
        return sum(ref.count for ref in self.refs)

    def batch_keys(self) -> list[str]:
        return [ref.batch_key for ref in self.refs]

    def called_keys(self) -> set[str]:
        return {call.batch_key for call in self.calls}

    def calls_of(self, key: str) -> list[Call]:
        return [call for call in self.calls if call.batch_key == key]

    def _status(self) -> QuizStatus:
        if not self.saved:
            return QuizStatus.FAILED
        if self.saved >= set(self.batch_keys()):
            return QuizStatus.READY_FOR_REVIEW
        return QuizStatus.READY_FOR_REVIEW_PARTIAL

    @activity.defn(name=START_ROUND_ACTIVITY)
    async def start_round(self, quiz_id: uuid.UUID) -> QuizPlan:
        if quiz_id != self.quiz_id:
            raise ApplicationError(
                f"no quiz {quiz_id}", type=QUIZ_NOT_FOUND_ERROR, non_retryable=True
            )
        self.plans += 1
        states = []
        for ref in self.refs:
            results = [
                r for rnd in self.rounds for r in rnd.results if r.batch_key == ref.batch_key
            ]
            done = ref.batch_key in self.saved and not self.stale_plan
            states.append(
                BatchState(
                    ref=ref,
                    status=BatchStatus.SUCCEEDED if done else BatchStatus.PENDING,
                    attempts=len(results),
                    last_error=results[-1].error if results else None,
                    drafts=self.drafts.get(ref.batch_key, 0),
                )
            )
        return QuizPlan(batches=states, title="Stub quiz")

    @activity.defn(name=GENERATE_QUESTIONS_ACTIVITY)
    async def generate_questions(self, input: GenerateQuestionsInput) -> GeneratedQuestions:
        ref, key = input.batch, input.batch.batch_key
        self.calls.append(Call(key, input.count, input.call_index, activity.info().attempt))
        if (gate := self.gates.get(key)) is not None:
            await gate.wait()
        if key in self.saved:
            return GeneratedQuestions(
                drafts=ref.count, saved=True, problem=None, tokens=TokenUsage()
            )
        steps = self.script.get(key)
        step: Step = steps.pop(0) if steps else input.count
        if step is Fault.PERMANENT:
            raise ApplicationError(PERMANENT_MESSAGE, type=PERMANENT_PROVIDER_ERROR)
        if step is Fault.TRANSIENT:
            raise ApplicationError(
                TRANSIENT_MESSAGE, type=TRANSIENT_PROVIDER_ERROR, next_retry_delay=TRANSIENT_DELAY
            )
        answer = step if isinstance(step, Answer) else Answer(step)
        have = self.drafts.get(key, 0)
        brought = min(answer.valid, input.count, ref.count - have)
        tokens = TokenUsage(prompt_tokens=100, completion_tokens=10 * brought)
        if have + brought >= ref.count:
            self.saved.add(key)
            self.drafts.pop(key, None)
            return GeneratedQuestions(drafts=ref.count, saved=True, problem=None, tokens=tokens)
        self.drafts[key] = have + brought
        return GeneratedQuestions(
            drafts=have + brought,
            problem=f"{input.count - brought} of {input.count} questions broke a rule",
            tokens=tokens,
            repairable=answer.repairable,
        )

    @activity.defn(name=SAVE_BATCH_ACTIVITY)
    async def save_batch(self, input: SaveBatchInput) -> SaveBatchOutput:
        key, count = input.batch.batch_key, input.batch.count
        self.saves.append(key)
        if key in self.saved:
            return SaveBatchOutput(saved=True)
        have = self.drafts.get(key, 0)
        if dropped := self.collisions.pop(key, 0):
            self.drafts[key] = have - dropped
            return SaveBatchOutput(
                saved=False, missing=count - have + dropped, duplicates_dropped=dropped
            )
        if have < count:
            return SaveBatchOutput(saved=False, missing=count - have)
        self.saved.add(key)
        self.drafts.pop(key, None)
        return SaveBatchOutput(saved=True)

    @activity.defn(name=RECORD_ROUND_ACTIVITY)
    async def record_round(self, input: RecordRoundInput) -> RoundRecorded:
        if all(rnd.round_id != input.round_id for rnd in self.rounds):
            self.rounds.append(input)
        return RoundRecorded(status=self._status(), saved_batch_keys=sorted(self.saved))
