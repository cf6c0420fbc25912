"""`./dev demo`: a sample quiz through a partial failure and a retry of only the failed batch.

1. Brings up the local stack (deploy/local/): PostgreSQL, the schema,
   Temporal (Web UI on http://localhost:8233), the HTTP API, and a worker
   whose fault injection makes exactly one batch of the sample quiz fail.
2. Creates the sample quiz (bundled course text) with `POST /quizzes` and
   starts it with `POST /quizzes/{id}/generate-questions`, printing progress
   from `GET /quizzes/{id}` as it goes.
3. "Fixes" the fault (restarts the worker with `LLM_FAULT_RATE=0`) and calls
   the same trigger again: only the failed batch is generated again.
4. Approves the questions and exports the quiz to a Canvas stand-in (a course and its
   teacher, in this process: `PUT /canvas/connection`, `POST /quizzes/{id}/export`),
   then downloads the QTI package (`GET /quizzes/{id}/export.zip`) to
   `.quizgen/demo-quiz-qti.zip` (deploy/local/demo_canvas.py).
5. Leaves Temporal, PostgreSQL, the API and a worker running, so the quiz can
   be found in the Web UI and the API tried with curl; `./dev demo --stop` ends them.
   The Canvas stand-in stops with the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
from typing import Any
from urllib.parse import quote

import httpx

from deploy.local.canvas import CanvasStandIn
from deploy.local.demo_canvas import canvas_env, export_demo_quiz, poll_printing, set_up
from deploy.local.paths import STATE_DIR, secret_file
from deploy.local.postgres import ensure_database
from deploy.local.processes import start_service, stop_started_servers
from deploy.local.temporal import UI_PORT, ensure_temporal
from quizgen.contracts import BatchRef
from quizgen.domain import BatchSpec, Difficulty, ModuleSpec, QuestionType, QuizSpec, QuizStatus
from quizgen.errors import QuizgenError
from quizgen.llm.faults import FaultPlan
from quizgen.samples import CELLS_SAMPLE, ENGLISH_SAMPLE
from quizgen.settings import FaultKind, Settings

SETTLED = {QuizStatus.READY_FOR_REVIEW, QuizStatus.READY_FOR_REVIEW_PARTIAL, QuizStatus.FAILED}
# Long enough per LLM call that progress can be watched, short enough to be done in seconds.
DEMO_LATENCY_SECONDS = "0.6"
WATCH_SECONDS = 120
DEMO_USER = "demo-teacher"
# Random, made on the first demo and kept: the API refuses a token anyone could read.
DEMO_TOKEN_FILE = STATE_DIR / "demo-token"


def demo_token() -> str:
    """The demo teacher's API token (`.quizgen/demo-token`), made once."""
    return secret_file(DEMO_TOKEN_FILE, lambda: secrets.token_urlsafe(32))


def sample_quiz() -> QuizSpec:
    return QuizSpec(
        title="Biology 101: photosynthesis and the cell",
        modules=[
            ModuleSpec(
                module_id="photosynthesis",
                name="Photosynthesis",
                content=ENGLISH_SAMPLE,
                batches=[
                    BatchSpec(question_type=QuestionType.MULTIPLE_CHOICE, count=6),
                    BatchSpec(
                        question_type=QuestionType.TRUE_FALSE, count=5, difficulty=Difficulty.EASY
                    ),
                    BatchSpec(
                        question_type=QuestionType.MATCHING, count=3, difficulty=Difficulty.HARD
                    ),
                ],
            ),
            ModuleSpec(
                module_id="cells",
                name="The cell",
                content=CELLS_SAMPLE,
                batches=[
                    BatchSpec(question_type=QuestionType.FILL_IN_BLANK, count=5),
                    BatchSpec(question_type=QuestionType.CATEGORIZATION, count=2),
                ],
            ),
        ],
    )


def fault_breaking_one(spec: QuizSpec, victim: str) -> FaultPlan:
    """A seed for LLM_FAULT_SEED under which only `victim` draws a (permanent) fault."""
    keys = [BatchRef.of(m, b).batch_key for m, b in spec.batches()]
    for n in range(100_000):
        plan = FaultPlan(rate=0.2, seed=f"demo-{n}", kinds=(FaultKind.PERMANENT,))
        if set(plan.faulty_batches(keys)) == {victim}:
            return plan
    raise RuntimeError("no seed found")  # cannot happen for a handful of batches


def _line(quiz: dict[str, Any]) -> str:
    progress = quiz["progress"]
    states = [b["status"] for b in progress["batches"]]
    return (
        f"  [{quiz['status']}] {progress['message']}  (batches: {states.count('succeeded')} done, "
        f"{states.count('running')} running, {states.count('failed')} failed)"
    )


async def watch(api: httpx.AsyncClient, quiz_id: str) -> dict[str, Any]:
    """Print progress from `GET /quizzes/{id}` whenever it changes, until the round settles."""
    deadline = asyncio.get_running_loop().time() + WATCH_SECONDS

    async def fetch() -> dict[str, Any]:
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(
                f"the quiz did not settle within {WATCH_SECONDS} s; is the worker running? "
                f"see {STATE_DIR}/worker.log"
            )
        response = await api.get(f"/quizzes/{quiz_id}")
        response.raise_for_status()
        quiz: dict[str, Any] = response.json()
        return quiz

    return await poll_printing(fetch, _line, lambda quiz: quiz["status"] in SETTLED)


def _worker_env(
    settings: Settings, database_url: str, plan: FaultPlan | None, canvas: dict[str, str]
) -> dict[str, str]:
    return {
        **canvas,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "LLM_PROVIDER": "offline",
        "LLM_OFFLINE_LATENCY_SECONDS": DEMO_LATENCY_SECONDS,
        "LLM_FAULT_RATE": str(plan.rate if plan else 0),
        "LLM_FAULT_SEED": plan.seed if plan else "none",
        "LLM_FAULT_KINDS": ",".join(plan.kinds) if plan else "permanent",
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


async def _start_api(
    settings: Settings, database_url: str, canvas: dict[str, str]
) -> httpx.AsyncClient:
    token = demo_token()
    tokens = ",".join(t for t in (os.environ.get("API_TOKENS"), f"{DEMO_USER}:{token}") if t)
    env = {"DATABASE_URL": database_url, "API_TOKENS": tokens, **canvas}
    start_service("api", env, "api.log", keep=True)
    api = httpx.AsyncClient(
        base_url=f"http://{settings.api_host}:{settings.api_port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    for _ in range(100):
        try:
            if (await api.get("/healthz")).status_code == 200:
                return api
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(
        f"the API did not start on port {settings.api_port}; see {STATE_DIR}/api.log"
    )


async def _trigger(api: httpx.AsyncClient, quiz_id: str) -> list[str]:
    response = await api.post(f"/quizzes/{quiz_id}/generate-questions")
    if response.status_code != 202:
        raise RuntimeError(f"generate-questions answered {response.status_code}: {response.text}")
    batch_keys: list[str] = response.json()["batch_keys"]
    return batch_keys


async def _drive(
    api: httpx.AsyncClient,
    settings: Settings,
    database_url: str,
    spec: QuizSpec,
    victim: str,
    canvas: dict[str, str],
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The scenario through the HTTP API: create, generate, fix the fault, retry."""
    plan = fault_breaking_one(spec, victim)
    worker = start_service(
        "worker", _worker_env(settings, database_url, plan, canvas), "worker.log"
    )
    try:
        created = await api.post("/quizzes", json=spec.model_dump(mode="json"))
        created.raise_for_status()
        quiz_id = created.json()["id"]
        print(f"\nPOST /quizzes -> quiz {quiz_id}: {created.json()['progress']['message']}")
        print(f"Fault injection (LLM_FAULT_SEED={plan.seed}) makes batch {victim} fail.\n")
        print(f"POST /quizzes/{quiz_id}/generate-questions -> {await _trigger(api, quiz_id)}")
        quiz = await watch(api, quiz_id)
        failed = [b for b in quiz["progress"]["batches"] if b["status"] == "failed"]
        print(f"\nRound 1 ended {quiz['status']}: {failed[0]['last_error'] if failed else ''}")
    finally:
        _stop(worker)

    print("\nThe fault is fixed (worker restarted with LLM_FAULT_RATE=0); same trigger again:")
    start_service(
        "worker", _worker_env(settings, database_url, None, canvas), "worker.log", keep=True
    )
    print(f"POST /quizzes/{quiz_id}/generate-questions -> {await _trigger(api, quiz_id)}\n")
    quiz = await watch(api, quiz_id)
    questions = (await api.get(f"/quizzes/{quiz_id}/questions", params={"limit": 1})).json()

    return quiz_id, quiz, questions


async def run_demo() -> None:
    settings = Settings()
    print("quizgen demo: bringing up PostgreSQL, Temporal, the API and a worker ...", flush=True)
    stop_started_servers(only=("api", "worker"))  # a previous demo's
    database_url = await ensure_database()
    await ensure_temporal(settings.temporal_address, settings.temporal_namespace)
    spec = sample_quiz()
    victim = BatchRef.of(spec.modules[0], spec.modules[0].batches[2]).batch_key
    async with CanvasStandIn() as stand_in:
        canvas = set_up(stand_in)
        api = await _start_api(settings, database_url, canvas_env(canvas))
        try:
            quiz_id, quiz, questions = await _drive(
                api, settings, database_url, spec, victim, canvas_env(canvas)
            )
            print(
                f"\nQuiz {quiz_id} is {quiz['status']}: {questions['count']} questions to review."
            )
            for attempt in quiz["generation_metadata"]["generation_attempts"]:
                ran = ", ".join(attempt["batch_results"])
                print(
                    f"  round {attempt['attempt_number']} ({attempt['overall_status']}) ran: {ran}"
                )
            await export_demo_quiz(api, canvas, quiz_id)
            quiz = (await api.get(f"/quizzes/{quiz_id}")).json()
        finally:
            await api.aclose()
    query = quote(f'QuizStatus="{quiz["status"]}"')
    base = f"http://{settings.api_host}:{settings.api_port}"
    print(
        f"\nTemporal Web UI: http://localhost:{UI_PORT}/namespaces/{settings.temporal_namespace}"
        f"/workflows?query={query}\n"
        f'API (still running): curl -H "Authorization: Bearer $(cat {DEMO_TOKEN_FILE})" '
        f"{base}/quizzes/{quiz_id}\n"
        f"Review page: {base}/ui/quizzes/{quiz_id} (sign in with the token in {DEMO_TOKEN_FILE})\n"
        f"Logs and data: {STATE_DIR}/   Stop everything: ./dev demo --stop\n"
        "The Canvas stand-in stopped with the demo: the API and worker left running still "
        "point at it: an export started from them now retries (CANVAS_RETRY_WINDOW) and fails."
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev demo", description=__doc__.splitlines()[0])
    parser.add_argument("--stop", action="store_true", help="stop what the demo left running")
    args = parser.parse_args()
    if args.stop:
        stopped = stop_started_servers()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return
    try:
        asyncio.run(run_demo())
    except KeyboardInterrupt:
        sys.exit(130)
    except (OSError, RuntimeError, QuizgenError, httpx.HTTPError) as err:
        # A clear line, not a traceback: the logs in .quizgen/ have the details.
        sys.exit(f"demo failed: {err}\n(logs: {STATE_DIR}/)")


if __name__ == "__main__":
    main()
