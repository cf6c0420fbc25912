"""Part 3: tokens spent to get a complete quiz when some batches fail, vs all-or-nothing.

A 40-batch x 5-question quiz (modules of ~5 KB) against `FakeOpenAI` (real `openai` client,
usage reported per answer, prompt tokens = prompt characters / 4). Scenarios:

- ideal: no faults, one round;
- short 10% / 30%: exactly that share of batches gets answers holding half
  the questions asked for, rounded down (`FaultInjectingProvider`, kind
  `short`: 2 of 5), so they stop after that call (under half is futile) and
  fail keeping their drafts; then a worker with a healthy provider runs the
  retry round, which asks only for what is missing;
- failed 10%: exactly 10% of batches fail at once (kind `permanent`, no
  tokens spent), then the retry round generates them;
- ideal and short 10% again with modules of one sample text (~1.3 KB, ~330
  tokens, about what the issue measured at): the share of the prompt in a
  call, and with it the price of the one more call a short batch needs,
  depends on the module's length.

Tokens are what the server delivered (`delivered_usage()`), checked against
the quiz's own `generation_metadata.tokens`; cached tokens are the part of the
prompt tokens the fake server reports as `prompt_tokens_details.cached_tokens`
(it caches prefixes as OpenAI does: prompts of 1,024+ tokens, 128-token
blocks); totals are prompt + completion, cached included. All-or-nothing (a design that regenerates
the whole quiz when any batch fails) is computed, not run: ideal x (1 + f),
with f the share of whole-quiz attempts (first rounds) that had a failure.

Two more figures per fault scenario, both computed from the runs:
- the floor: what any design that keeps good questions must spend at least,
  ideal + one more call's prompt per faulty batch (the model has to be asked
  again, with the module's content, for what it did not deliver; its answer
  replaces questions the ideal run also paid for);
- the billed cost, with tokens weighted as providers price them: cached
  prompt tokens at 0.5x an uncached one and completion tokens at 4x
  (OpenAI's list prices for gpt-4o-mini: $0.15, $0.075 and $0.60 per million).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bench.harness import (
    Row,
    Stack,
    fake_provider,
    log,
    make_quiz,
    new_queue,
    quiz_spec,
    ratio,
    real_workers,
)
from deploy.local.fake_openai import FakeOpenAI
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import BatchRef, GenerationConfig
from quizgen.db import repository as repo
from quizgen.domain import BatchStatus, QuizStatus, TokenUsage
from quizgen.llm.base import QuestionProvider
from quizgen.llm.faults import FaultInjectingProvider, FaultPlan
from quizgen.settings import FaultKind

PART = "3 tokens"
BATCHES, QUESTIONS = 40, 5
# Four sample texts per module (~5 KB, ~1,400 prompt tokens with the rules): a
# module of real course text is at least that, and prompts under 1,024 tokens
# are never cached, which would hide what the prompt layout does for the cost.
CONTENT_PARTS = 4
SHORT_10 = "short 10% of batches, then retry"
SHORT_30 = "short 30% of batches, then retry"
FAILED_10 = "failed 10% of batches (permanent), then retry"


def share_of(name: str) -> float:
    return 0.30 if name == SHORT_30 else 0.10


@dataclass
class Outcome:
    delivered: TokenUsage
    metadata: TokenUsage
    calls: int
    rounds: int
    failed_rounds: int


def _keys() -> list[str]:
    return [BatchRef.of(m, b).batch_key for m, b in quiz_spec(BATCHES, QUESTIONS).batches()]


def exact_plan(share: float, kind: FaultKind) -> FaultPlan:
    """A fault plan (found by trying seeds) that breaks exactly `share` of the batches."""
    keys = _keys()
    target = round(share * len(keys))
    for n in range(10_000):
        plan = FaultPlan(rate=share, seed=f"bench-{n}", kinds=(kind,))
        if len(plan.faulty_batches(keys)) == target:
            return plan
    raise RuntimeError(f"no seed breaks exactly {target} batches")


async def scenario(stack: Stack, plan: FaultPlan | None, parts: int) -> Outcome:
    config = GenerationConfig()
    queue = new_queue("tokens")
    quiz_id: uuid.UUID = await make_quiz(stack.engine, BATCHES, QUESTIONS, parts)
    async with FakeOpenAI() as server:
        healthy = fake_provider(server)
        first: QuestionProvider = FaultInjectingProvider(healthy, plan) if plan else healthy
        async with real_workers(stack, first, queue):
            await temporal_client.start_generation(
                stack.client, quiz_id, task_queue=queue, config=config
            )
            record = await wait_for_attempts(stack.engine, quiz_id, 1, within_seconds=180)
        if record.status is not QuizStatus.READY_FOR_REVIEW:
            async with real_workers(stack, healthy, queue):
                handle = await temporal_client.request_retry(
                    stack.client, quiz_id, task_queue=queue, config=config
                )
                result = await handle.result()
            if result.status is not QuizStatus.READY_FOR_REVIEW:
                raise RuntimeError(f"retry round ended {result.status}: {result.failed_batches}")
        record = await repo.get_quiz(stack.engine, quiz_id)
        attempts = record.generation_metadata.generation_attempts
        failed = sum(
            any(r.status is not BatchStatus.SUCCEEDED for r in a.batch_results.values())
            for a in attempts
        )
        return Outcome(
            delivered=server.delivered_usage(),
            metadata=record.generation_metadata.tokens,
            calls=len(server.delivered()),
            rounds=len(attempts),
            failed_rounds=failed,
        )


# Price of a token relative to an uncached prompt token (see the module docstring).
CACHED_PRICE, COMPLETION_PRICE = 0.5, 4.0


def billed(usage: TokenUsage) -> float:
    """Tokens weighted by price, in uncached-prompt-token units."""
    uncached = usage.prompt_tokens - usage.cached_prompt_tokens
    cached = usage.cached_prompt_tokens * CACHED_PRICE
    return uncached + cached + usage.completion_tokens * COMPLETION_PRICE


def _cost_rows(name: str, plan: FaultPlan, o: Outcome, ideal: Outcome) -> list[Row]:
    """The floor (for short batches) and the billed cost of a fault scenario."""
    rows: list[Row] = []
    if FaultKind.SHORT in plan.kinds:
        # Batches that fail before their call (permanent) cost nothing: their floor is ideal.
        faulty = len(plan.faulty_batches(_keys()))
        prompt_per_call = ideal.delivered.prompt_tokens / ideal.calls
        floor = ideal.delivered.total_tokens + faulty * prompt_per_call
        rows.append(
            Row(
                part=PART,
                measure=f"floor (computed) for: {name}",
                result=f"{floor:,.0f} = ideal + {faulty} x {prompt_per_call:,.0f}"
                " (one more prompt per faulty batch)",
                baseline=f"ideal {ideal.delivered.total_tokens:,}",
                ratio=ratio(floor, ideal.delivered.total_tokens),
                ratio_label="floor / ideal",
                notes=f"the scenario spent {o.delivered.total_tokens / floor:.2f}x the floor",
            )
        )
    rows.append(
        Row(
            part=PART,
            measure=f"billed cost for: {name}",
            result=f"{billed(o.delivered):,.0f} token-price units",
            baseline=f"ideal {billed(ideal.delivered):,.0f}",
            ratio=ratio(billed(o.delivered), billed(ideal.delivered)),
            ratio_label="scenario / ideal, priced",
            notes=f"cached prompt tokens at {CACHED_PRICE}x, completion at "
            f"{COMPLETION_PRICE:.0f}x an uncached prompt token",
        )
    )
    return rows


def _tokens(usage: TokenUsage) -> str:
    return (
        f"{usage.total_tokens:,} (prompt {usage.prompt_tokens:,}, of them cached "
        f"{usage.cached_prompt_tokens:,}; completion {usage.completion_tokens:,})"
    )


async def run(stack: Stack) -> list[Row]:
    short_10 = exact_plan(0.10, FaultKind.SHORT)
    rows = await _scenarios(
        stack,
        CONTENT_PARTS,
        [
            (SHORT_10, short_10),
            (SHORT_30, exact_plan(0.30, FaultKind.SHORT)),
            (FAILED_10, exact_plan(0.10, FaultKind.PERMANENT)),
        ],
    )
    # The same at modules of one sample text (~330 tokens, the size the issue measured
    # at): the shorter the module, the less the one more prompt a short batch needs.
    small = f" (modules of ~1.3 KB, {CONTENT_PARTS}x shorter)"
    return rows + await _scenarios(stack, 1, [(SHORT_10, short_10)], small)


async def _scenarios(
    stack: Stack,
    parts: int,
    faulty: list[tuple[str, FaultPlan]],
    label: str = "",
) -> list[Row]:
    scenarios: list[tuple[str, FaultPlan | None]] = [("ideal (no faults)", None), *faulty]
    outcomes: dict[str, Outcome] = {}
    for name, plan in scenarios:
        outcomes[name] = await scenario(stack, plan, parts)
        o = outcomes[name]
        log(
            f"tokens {name}{label}: {o.delivered.total_tokens} tokens, {o.calls} calls, "
            f"{o.rounds} rounds"
        )
    ideal = outcomes[scenarios[0][0]]
    rows: list[Row] = []
    for name, plan in scenarios:
        o = outcomes[name]
        match = "matches" if o.metadata == o.delivered else f"DIFFERS: {_tokens(o.metadata)}"
        notes = (
            f"{o.calls} LLM calls (ideal {ideal.calls}); {o.rounds} round(s), "
            f"{o.failed_rounds} with a failed batch; quiz metadata {match}"
        )
        if o.delivered.prompt_tokens:
            cached = o.delivered.cached_prompt_tokens / o.delivered.prompt_tokens
            notes += f"; {cached:.0%} of prompt tokens cached"
        rows.append(
            Row(
                part=PART,
                measure=f"{BATCHES} batches x {QUESTIONS} q, tokens to a complete quiz: "
                f"{name}{label}",
                result=_tokens(o.delivered),
                baseline=f"ideal {ideal.delivered.total_tokens:,}",
                ratio=ratio(o.delivered.total_tokens, ideal.delivered.total_tokens),
                ratio_label="scenario / ideal",
                notes=notes,
                data={
                    "delivered": o.delivered.model_dump(),
                    "metadata": o.metadata.model_dump(),
                    "calls": o.calls,
                    "rounds": o.rounds,
                    "failed_rounds": o.failed_rounds,
                },
            )
        )
        if plan is not None:
            rows += _cost_rows(f"{name}{label}", plan, o, ideal)
            # One whole-quiz attempt per scenario here, and it had a failure: f = 1.
            share = min(o.failed_rounds, 1) / 1
            all_or_nothing = ideal.delivered.total_tokens * (1 + share)
            rows.append(
                Row(
                    part=PART,
                    measure=f"all-or-nothing (computed) for: {name}{label}",
                    result=f"{all_or_nothing:,.0f} = ideal x (1 + {share:.2f})",
                    baseline=f"ideal {ideal.delivered.total_tokens:,}",
                    ratio=ratio(all_or_nothing, ideal.delivered.total_tokens),
                    ratio_label="all-or-nothing / ideal",
                    notes=f"per-batch retry spent {o.delivered.total_tokens / all_or_nothing:.2f}"
                    " of the all-or-nothing cost; f = share of first rounds with a failed batch"
                    f" (for a random {BATCHES}-batch quiz at a {share_of(name):.0%} batch failure"
                    f" rate f = 1 - {1 - share_of(name):.1f}^{BATCHES} = "
                    f"{1 - (1 - share_of(name)) ** BATCHES:.2f})",
                )
            )
    return rows
