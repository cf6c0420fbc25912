"""Deterministic fault injection around any provider, for demos, tests and benchmarks.

Whether a batch is faulty, and with which kind, is drawn from a SHA-256 of
`LLM_FAULT_SEED` and the batch key, so the same settings always break the same
batches, on every worker. The kinds:

- `permanent`: every call fails with a non-retryable error while the setting
  stays; a worker restarted with `LLM_FAULT_RATE=0` lets a retry succeed.
- `transient`: the first attempt of each call fails with a retryable error;
  Temporal's retry (attempt 2+) gets a good answer.
- `malformed`: the batch's first answer of a round is not JSON; top-up recovers.
- `short`: every answer holds only half the questions asked for (rounded
  down), so the batch cannot reach its target and fails, keeping what it has.
  The provider is asked for that half (at least one), so usage is what a model
  that writes fewer questions bills, not the price of questions thrown away.
- `invalid`: in the batch's first answer of a round every other question
  breaks a rule; repair recovers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from quizgen.errors import PermanentProviderError, TransientProviderError
from quizgen.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from quizgen.settings import FaultKind, Settings

__all__ = ["FaultInjectingProvider", "FaultPlan"]


class FaultPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    rate: float = 0.0
    seed: str = "quizgen"
    kinds: tuple[FaultKind, ...] = (FaultKind.PERMANENT,)

    @classmethod
    def from_settings(cls, settings: Settings) -> FaultPlan:
        return cls(
            rate=settings.llm_fault_rate,
            seed=settings.llm_fault_seed,
            kinds=tuple(settings.llm_fault_kinds),
        )

    def kind_for(self, batch_key: str) -> FaultKind | None:
        """The fault this batch suffers, or None; a pure function of seed and key."""
        if self.rate <= 0 or not self.kinds:
            return None
        digest = hashlib.sha256(f"{self.seed}\x00{batch_key}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.rate:
            return None
        return self.kinds[int.from_bytes(digest[8:16], "big") % len(self.kinds)]

    def faulty_batches(self, batch_keys: Iterable[str]) -> dict[str, FaultKind]:
        return {key: kind for key in batch_keys if (kind := self.kind_for(key)) is not None}


class FaultInjectingProvider:
    """Wraps a provider; batches the plan does not pick pass straight through."""

    def __init__(self, inner: QuestionProvider, plan: FaultPlan) -> None:
        self._inner = inner
        self._plan = plan

    @property
    def inner(self) -> QuestionProvider:
        return self._inner

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        kind = self._plan.kind_for(request.batch_key)
        first_call = request.call_index == 0
        if kind is FaultKind.PERMANENT:
            raise PermanentProviderError(
                f"injected permanent fault for batch {request.batch_key} (LLM_FAULT_KINDS)"
            )
        if kind is FaultKind.TRANSIENT and request.attempt == 1:
            raise TransientProviderError(
                f"injected transient fault for batch {request.batch_key}; a retry will succeed",
                retry_after_seconds=0.1,
            )
        if kind is FaultKind.MALFORMED and first_call:
            return GenerationResponse(raw='{"questions": [{"question_text": "unterminated')
        if kind is FaultKind.SHORT:
            half = request.count // 2
            response = await self._inner.generate(request.model_copy(update={"count": half or 1}))
            return _rewrite(response, lambda qs: qs[:half])
        response = await self._inner.generate(request)
        if kind is FaultKind.INVALID and first_call:
            return _rewrite(response, _break_every_other)
        return response


def _rewrite(
    response: GenerationResponse, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> GenerationResponse:
    questions = json.loads(response.raw)["questions"]
    return GenerationResponse(
        raw=json.dumps({"questions": change(questions)}), usage=response.usage
    )


def _break_every_other(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # An unknown field is a rule every question type enforces (extra="forbid").
    return [{**q, "injected_fault": True} if i % 2 == 0 else q for i, q in enumerate(questions)]
