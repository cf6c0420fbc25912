"""Fault injection breaks exactly the batches its settings pick, the same way every time."""

from __future__ import annotations

import pytest

from quizgen.domain import Difficulty, Language, QuestionType, Tone, batch_key
from quizgen.errors import PermanentProviderError, TransientProviderError
from quizgen.llm.base import GenerationRequest
from quizgen.llm.faults import FaultInjectingProvider, FaultPlan
from quizgen.llm.offline import OfflineProvider
from quizgen.settings import FaultKind, Settings
from quizgen.validation import validate_output
from tests.support.samples import ENGLISH_SAMPLE

pytestmark = pytest.mark.fast

KEYS = [
    batch_key(f"m{i}", qt, 5, Difficulty.MEDIUM)
    for i in range(8)
    for qt in (QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE)
]


def _request(
    key: str, *, count: int = 6, call_index: int = 0, attempt: int = 1
) -> GenerationRequest:
    return GenerationRequest(
        batch_key=key,
        module_id=key.split("_")[0],
        module_name="Photosynthesis",
        content=ENGLISH_SAMPLE,
        question_type=QuestionType.TRUE_FALSE,
        difficulty=Difficulty.MEDIUM,
        language=Language.ENGLISH,
        tone=Tone.ACADEMIC,
        count=count,
        call_index=call_index,
        attempt=attempt,
    )


def _provider(plan: FaultPlan) -> FaultInjectingProvider:
    return FaultInjectingProvider(OfflineProvider(), plan)


def _plan_breaking(target: str, kind: FaultKind) -> FaultPlan:
    """The first seed whose plan breaks `target` and no other key in KEYS."""
    for n in range(10_000):
        plan = FaultPlan(rate=0.1, seed=f"seed-{n}", kinds=(kind,))
        if plan.faulty_batches(KEYS) == {target: kind}:
            return plan
    raise AssertionError("no seed found")


async def _fails(provider: FaultInjectingProvider, key: str) -> bool:
    try:
        await provider.generate(_request(key))
    except PermanentProviderError:
        return True
    return False


async def test_exactly_the_drawn_batches_fail_and_the_draw_is_reproducible() -> None:
    plan = FaultPlan(rate=0.4, seed="classroom", kinds=(FaultKind.PERMANENT,))
    faulty = set(plan.faulty_batches(KEYS))
    assert 0 < len(faulty) < len(KEYS)
    failed = {key for key in KEYS if await _fails(_provider(plan), key)}
    assert failed == faulty
    again = FaultPlan(rate=0.4, seed="classroom", kinds=(FaultKind.PERMANENT,))
    assert {key for key in KEYS if await _fails(_provider(again), key)} == faulty
    other_seed = FaultPlan(rate=0.4, seed="another", kinds=(FaultKind.PERMANENT,))
    assert set(other_seed.faulty_batches(KEYS)) != faulty


def test_rate_bounds_and_proportion() -> None:
    many = [batch_key(f"m{i}", QuestionType.MATCHING, 3, Difficulty.HARD) for i in range(1000)]
    assert FaultPlan(rate=0.0).faulty_batches(many) == {}
    assert len(FaultPlan(rate=1.0).faulty_batches(many)) == 1000
    drawn = len(FaultPlan(rate=0.25, seed="x").faulty_batches(many))
    assert 180 < drawn < 320


def test_kinds_are_spread_over_the_configured_list() -> None:
    kinds = (FaultKind.SHORT, FaultKind.MALFORMED, FaultKind.TRANSIENT)
    drawn = FaultPlan(rate=1.0, seed="k", kinds=kinds).faulty_batches(KEYS)
    assert set(drawn.values()) == set(kinds)


async def test_a_seed_can_be_chosen_to_break_one_named_batch() -> None:
    target = KEYS[3]
    provider = _provider(_plan_breaking(target, FaultKind.PERMANENT))
    assert [key for key in KEYS if await _fails(provider, key)] == [target]


async def test_transient_fails_first_attempt_only() -> None:
    provider = _provider(_plan_breaking(KEYS[0], FaultKind.TRANSIENT))
    with pytest.raises(TransientProviderError):
        await provider.generate(_request(KEYS[0], attempt=1))
    response = await provider.generate(_request(KEYS[0], attempt=2))
    assert len(validate_output(QuestionType.TRUE_FALSE, response.raw).valid) == 6


async def test_malformed_breaks_the_first_answer_only() -> None:
    provider = _provider(_plan_breaking(KEYS[1], FaultKind.MALFORMED))
    first = validate_output(
        QuestionType.TRUE_FALSE, (await provider.generate(_request(KEYS[1]))).raw
    )
    assert first.output_error is not None and "not valid JSON" in first.output_error
    later = await provider.generate(_request(KEYS[1], call_index=1))
    assert len(validate_output(QuestionType.TRUE_FALSE, later.raw).valid) == 6


async def test_short_halves_every_answer() -> None:
    provider = _provider(_plan_breaking(KEYS[2], FaultKind.SHORT))
    for call_index, asked, got in [(0, 6, 3), (1, 3, 1), (2, 1, 0)]:
        response = await provider.generate(_request(KEYS[2], count=asked, call_index=call_index))
        report = validate_output(QuestionType.TRUE_FALSE, response.raw)
        assert (len(report.valid), report.rejected) == (got, [])


async def test_invalid_breaks_half_of_the_first_answer() -> None:
    provider = _provider(_plan_breaking(KEYS[4], FaultKind.INVALID))
    first = validate_output(
        QuestionType.TRUE_FALSE, (await provider.generate(_request(KEYS[4]))).raw
    )
    assert len(first.valid) == 3 and len(first.rejected) == 3
    assert all("injected_fault" in r.reason for r in first.rejected)
    later = await provider.generate(_request(KEYS[4], call_index=1))
    assert validate_output(QuestionType.TRUE_FALSE, later.raw).rejected == []


async def test_unpicked_batches_pass_through_unchanged() -> None:
    plan = _plan_breaking(KEYS[5], FaultKind.PERMANENT)
    wrapped = await _provider(plan).generate(_request(KEYS[6]))
    plain = await OfflineProvider().generate(_request(KEYS[6]))
    assert wrapped == plain


def test_settings_read_the_fault_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_FAULT_RATE", "0.3")
    monkeypatch.setenv("LLM_FAULT_SEED", "demo")
    monkeypatch.setenv("LLM_FAULT_KINDS", "short, transient")
    plan = FaultPlan.from_settings(Settings(_env_file=None))
    assert plan == FaultPlan(rate=0.3, seed="demo", kinds=(FaultKind.SHORT, FaultKind.TRANSIENT))
    monkeypatch.setenv("LLM_FAULT_KINDS", "sometimes")
    with pytest.raises(ValueError, match="permanent"):
        Settings(_env_file=None)
