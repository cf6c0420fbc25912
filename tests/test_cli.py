"""The `quizgen` command line against the real stack: dev server, PostgreSQL, a worker
with fault injection, and the API served by uvicorn on a real port. Nothing is mocked:
every command runs as `python -m cli` in a subprocess.

A teacher creates the shipped sample quiz from its file, starts generation, watches a
round end partly ready (exit 2) with the failed batch's reason, retries only that
batch (exit 0), reviews, approves, exports, lists and deletes. Errors (wrong token,
no API, a bad quiz file, usage mistakes) are one `error: ...` line and exit 1.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import socket
import struct
import sys
import termios
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

import cli.client
from activities.llm.faults import FaultInjectingProvider
from activities.llm.offline import OfflineProvider
from api import create_app
from cli.client import ApiClient, Json
from cli.quizfile import derive_module_ids, load_quiz_file
from quizgen.domain import Difficulty, Language, QuestionType, QuizStatus, batch_key
from quizgen.settings import Settings
from tests.support.api import ALICE, BOB
from tests.support.flows import plan_breaking, running_worker
from tests.support.serve import serving

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = REPO_ROOT / "cli" / "samples" / "quiz.yaml"
# The sample's batches; "cell-biology" is derived from the module's name.
KEYS = [
    batch_key("cell-biology", QuestionType.MULTIPLE_CHOICE, 5, Difficulty.EASY),
    batch_key("cell-biology", QuestionType.TRUE_FALSE, 4, Difficulty.MEDIUM),
    batch_key("photosynthesis", QuestionType.FILL_IN_BLANK, 3, Difficulty.HARD),
    batch_key("photosynthesis", QuestionType.MATCHING, 3, Difficulty.MEDIUM),
]
COUNTS = [5, 4, 3, 3]
KEYS_START = ("cell-biology_", "photosynthesis_")
BROKEN = KEYS[1]
TARGET = sum(COUNTS)
WRONG_TOKEN = "wrong-token-0123456789"
WATCH = ("--watch", "--interval", "0.2", "--timeout", "60")
RUN_SECONDS = 60
# Colours and cursor movement of the live view, removed to read what the screen says.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def one_error_line(self) -> str:
        """The run failed with exit 1 and exactly one `error: ...` line, no traceback."""
        assert self.code == 1, self
        lines = self.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.stderr
        assert "Traceback" not in self.stderr + self.stdout
        return lines[0]


def _env(api: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZGEN_")}
    # Wide, so table cells are not wrapped; unbuffered, so a watcher's lines arrive as printed.
    return {
        **env,
        "QUIZGEN_API": api,
        "QUIZGEN_TOKEN": token,
        "COLUMNS": "200",
        "PYTHONUNBUFFERED": "1",
    }


async def _start(api: str, *args: str, token: str = ALICE) -> asyncio.subprocess.Process:
    # Not subprocess.run: the API and the worker run in this event loop and must keep serving.
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args,
        cwd=REPO_ROOT,
        env=_env(api, token),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _finish(proc: asyncio.subprocess.Process, stdin: bytes | None = None) -> Run:
    try:
        async with asyncio.timeout(RUN_SECONDS):
            out, err = await proc.communicate(stdin)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    assert proc.returncode is not None
    return Run(proc.returncode, (out or b"").decode(), (err or b"").decode())


async def quizgen(api: str, *args: str, token: str = ALICE, stdin: bytes | None = None) -> Run:
    run = await _finish(await _start(api, *args, token=token), stdin)
    # Whatever the command and its outcome, the token is never printed.
    assert not token or token not in run.stdout + run.stderr
    return run


async def _read_until(proc: asyncio.subprocess.Process, text: str) -> str:
    """The watcher's output up to the line holding `text`."""
    assert proc.stdout is not None
    seen = ""
    async with asyncio.timeout(RUN_SECONDS):
        while text not in seen:
            line = await proc.stdout.readline()
            assert line, f"output ended before {text!r}: {seen}"
            seen += line.decode()
    return seen


async def _on_terminal(api: str, *args: str) -> Run:
    """Run with stdout on a pseudo-terminal 120 columns wide, as a person would see it."""
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in _env(api, ALICE).items() if k != "COLUMNS"} | {"TERM": "xterm"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args,
        cwd=REPO_ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=terminal,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    os.close(terminal)
    try:
        # Read while it runs (a full terminal would block it); _finish bounds the time.
        reading = asyncio.create_task(asyncio.to_thread(_read_terminal, master))
        run = await _finish(proc)
        screen = await reading
    finally:
        os.close(master)
    return Run(run.code, screen.decode(errors="replace"), run.stderr)


def _read_terminal(master: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the program closed the terminal (it exited)
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _questions_in_process(api: str, quiz_id: str) -> list[Json]:
    # In a thread: the client is synchronous and the API answers from this test's event loop.
    with ApiClient(api, ALICE) as client:
        return client.questions(uuid.UUID(quiz_id))


def _closed_port_api() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_a_teacher_runs_a_quiz_from_the_command_line(
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serving(create_app(settings)) as api:
        created = await quizgen(api, "create", str(SAMPLE))
        assert created.code == 0, created
        quiz_id = created.stdout.strip()
        uuid.UUID(quiz_id)

        # No worker yet: the round is accepted and stays running; a second start is refused.
        started = await quizgen(api, "generate", quiz_id)
        assert (started.code, started.stdout.strip()) == (
            0,
            f"generating 4 batch(es) (quiz {quiz_id})",
        )
        again = await quizgen(api, "generate", quiz_id)
        assert again.one_error_line() == (
            "error: generation is already running for this quiz (HTTP 409)"
        )

        # --watch on the running round follows it to its end: partly ready, exit 2.
        watcher = await _start(api, "generate", quiz_id, *WATCH)
        head = await _read_until(watcher, "watching it")
        faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [BROKEN]))
        async with running_worker(temporal_env.client, engine, faulty, task_queue):
            partial = await _finish(watcher)
        assert partial.code == 2, partial
        watched = head + partial.stdout
        assert ALICE not in watched + partial.stderr
        assert "generation is already running for this quiz; watching it" in watched
        assert (
            "ready_for_review_partial: 11 questions generated successfully (4 remaining)" in watched
        )
        [failed_row] = [line for line in watched.splitlines() if line.startswith(BROKEN)]
        assert " failed " in failed_row and " 0/4 " in failed_row
        assert f"last error of {BROKEN}: " in watched and "injected permanent fault" in watched

        # status: the same picture (a table without bars), and the same exit code.
        status = await quizgen(api, "status", quiz_id)
        assert status.code == 2, status
        lines = status.stdout.splitlines()
        assert lines[1:3] == [
            "status: ready_for_review_partial",
            "11 questions generated successfully (4 remaining)",
        ]
        rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith(KEYS_START)}
        assert rows == {
            key: ["succeeded", f"{n}/{n}", "1"]
            for key, n in zip(KEYS, COUNTS, strict=True)
            if key != BROKEN
        } | {BROKEN: ["failed", "0/4", "1"]}
        assert f"last error of {BROKEN}: " in status.stdout

        # The LLM is healthy again: retry only the failed batch, watched live on a terminal.
        async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
            retried = await _on_terminal(api, "retry", quiz_id, *WATCH)
        assert retried.code == 0, retried
        screen = ANSI.sub("", retried.stdout)
        assert f"retrying 1 failed batch(es); saved questions are kept (quiz {quiz_id})" in screen
        assert "status: ready_for_review" in screen
        assert "15 questions generated successfully (0 remaining)" in screen
        # The stream holds every frame the live view drew; the last one stays on screen.
        retried_row = [line for line in screen.splitlines() if line.startswith(BROKEN)][-1]
        assert "━" in retried_row and " 4/4 " in retried_row and " succeeded " in retried_row
        nothing_left = await quizgen(api, "generate", quiz_id)
        assert "nothing left to generate" in nothing_left.one_error_line()
        ready = await quizgen(api, "status", quiz_id, "--json")
        assert ready.code == 0 and json.loads(ready.stdout)["status"] == QuizStatus.READY_FOR_REVIEW

        # Review: every question, filters, approval one by one and all at once.
        listed = await quizgen(api, "questions", quiz_id, "--json")
        questions = json.loads(listed.stdout)
        assert len(questions) == TARGET and len({q["id"] for q in questions}) == TARGET
        # Paging: the client's page size lowered to 4, the same questions in the same order.
        monkeypatch.setattr(cli.client, "QUESTIONS_PAGE", 4)
        paged = await asyncio.to_thread(_questions_in_process, api, quiz_id)
        assert [q["id"] for q in paged] == [q["id"] for q in questions]

        true_false = json.loads(
            (await quizgen(api, "questions", quiz_id, "-t", "true_false", "--json")).stdout
        )
        assert [q["batch_key"] for q in true_false] == [BROKEN] * 4
        table = await quizgen(api, "questions", quiz_id, "--module", "photosynthesis")
        assert table.code == 0 and "6 question(s)" in table.stdout

        first = questions[0]["id"]
        one = await quizgen(api, "approve", quiz_id, first)
        assert (one.code, one.stdout.strip()) == (0, "approved 1 question(s)")
        approved = json.loads(
            (await quizgen(api, "questions", quiz_id, "--approved", "--json")).stdout
        )
        assert [q["id"] for q in approved] == [first]
        rest = await quizgen(api, "approve", quiz_id, "--all")
        assert (rest.code, rest.stdout.strip()) == (0, f"approved {TARGET - 1} question(s)")
        pending = await quizgen(api, "questions", quiz_id, "--not-approved", "--json")
        assert json.loads(pending.stdout) == []
        assert (
            "give question ids or --all"
            in (await quizgen(api, "approve", quiz_id)).one_error_line()
        )

        export_file = tmp_path / "questions.json"
        exported = await quizgen(api, "export", quiz_id, "-o", str(export_file))
        assert exported.stdout.strip() == f"exported {TARGET} question(s) to {export_file}"
        export = json.loads(export_file.read_text(encoding="utf-8"))
        assert sorted(q["id"] for q in export) == sorted(q["id"] for q in questions)
        assert all(q["is_approved"] for q in export)

        quizzes = await quizgen(api, "list")
        [row] = [line for line in quizzes.stdout.splitlines() if quiz_id in line]
        assert "Cells and photosynthesis" in row and "ready_for_review" in row and "15/15" in row
        page = json.loads((await quizgen(api, "list", "--limit", "1", "--json")).stdout)
        assert [q["id"] for q in page["data"]] == [quiz_id] and page["count"] >= 1

        # Another teacher cannot see the quiz; a wrong token is refused (and not printed).
        assert (await quizgen(api, "status", quiz_id, token=BOB)).one_error_line() == (
            f"error: quiz {quiz_id} not found (HTTP 404)"
        )
        wrong = await quizgen(api, "list", token=WRONG_TOKEN)
        assert wrong.one_error_line() == "error: the API token is not valid (HTTP 401)"

        deleted = await quizgen(api, "delete", quiz_id, "--yes")
        assert (deleted.code, deleted.stdout.strip()) == (0, f"deleted quiz {quiz_id}")
        gone = await quizgen(api, "status", quiz_id)
        assert gone.one_error_line() == f"error: quiz {quiz_id} not found (HTTP 404)"


async def test_a_quiz_from_stdin_that_never_ran_is_unsettled_and_deleted_without_a_prompt(
    settings: Settings,
) -> None:
    document = derive_module_ids(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
    async with serving(create_app(settings)) as api:
        created = await quizgen(api, "create", "-", "--json", stdin=json.dumps(document).encode())
        assert created.code == 0, created
        quiz = json.loads(created.stdout)
        assert quiz["status"] == QuizStatus.CREATED
        assert (
            quiz["progress"]["message"]
            == f"0 questions generated successfully ({TARGET} remaining)"
        )

        status = await quizgen(api, "status", quiz["id"])
        assert status.code == 3, status
        assert "created" in status.stdout and "pending" in status.stdout

        # No terminal on stdin: a script is not stopped by the confirmation prompt.
        deleted = await quizgen(api, "delete", quiz["id"])
        assert deleted.code == 0, deleted
        assert "not found (HTTP 404)" in (await quizgen(api, "status", quiz["id"])).one_error_line()


async def test_an_unreachable_api_is_one_line() -> None:
    api = _closed_port_api()
    run = await quizgen(api, "list")
    assert run.one_error_line().startswith(f"error: cannot reach the quizgen API at {api}: ")
    watch = await quizgen(api, "generate", str(uuid.uuid4()), *WATCH)
    assert watch.one_error_line().startswith(f"error: cannot reach the quizgen API at {api}")


async def test_a_bad_quiz_file_is_explained_field_by_field_before_any_request(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "title: Cells\n"
        "language: de\n"
        "modules:\n"
        "  - name: Cell biology\n"
        "    batches:\n"
        "      - {question_type: essay, count: 3}\n"
        "      - {question_type: true_false, count: 50}\n",
        encoding="utf-8",
    )
    # The API "address" is a closed port: any request would end in "cannot reach".
    run = await quizgen(_closed_port_api(), "create", str(bad))
    assert run.code == 1 and "Traceback" not in run.stderr
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"error: {bad}: not a valid quiz (4 problem(s))",
        "  language: Input should be 'en' or 'no'",
        "  modules[0].content: Field required",
        "  modules[0].batches[0].question_type: Input should be 'multiple_choice', "
        "'true_false', 'fill_in_blank', 'matching' or 'categorization'",
        "  modules[0].batches[1].count: Input should be less than or equal to 20",
    ]

    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed\n", encoding="utf-8")
    syntax = (await quizgen(_closed_port_api(), "create", str(broken))).one_error_line()
    assert syntax.startswith(f"error: {broken}: invalid YAML: ") and "line 2" in syntax
    stdin = await quizgen(_closed_port_api(), "create", "-", stdin=b"{not json")
    assert stdin.one_error_line().startswith("error: stdin: invalid JSON: ")
    text = tmp_path / "quiz.txt"
    text.write_text("title: x\n", encoding="utf-8")
    assert (
        ".yaml, .yml or .json"
        in (await quizgen(_closed_port_api(), "create", str(text))).one_error_line()
    )


async def test_usage_mistakes_exit_1_and_the_token_never_shows() -> None:
    api = _closed_port_api()
    not_an_id = await quizgen(api, "status", "not-a-uuid")
    assert "valid UUID" in not_an_id.one_error_line()
    unknown = await quizgen(api, "retry", str(uuid.uuid4()), "--bogus")
    assert "No such option" in unknown.one_error_line()
    no_token = await quizgen(api, "list", token="")
    assert no_token.one_error_line() == "error: no API token: set QUIZGEN_TOKEN or pass --token"
    helped = await quizgen(api, "--help")
    assert helped.code == 0 and "generate" in helped.stdout and ALICE not in helped.stdout
    # --api/--token given as flags win over the environment.
    flags = await quizgen("http://127.0.0.1:1", "--api", api, "--token", BOB, "list", token=ALICE)
    assert f"cannot reach the quizgen API at {api}" in flags.one_error_line()


def test_the_shipped_sample_is_a_valid_quiz() -> None:
    spec = load_quiz_file(str(SAMPLE))
    assert [m.module_id for m in spec.modules] == ["cell-biology", "photosynthesis"]
    assert [
        batch_key(m.module_id, b.question_type, b.count, b.difficulty) for m, b in spec.batches()
    ] == KEYS
    assert spec.question_target == TARGET
    assert all(len(m.content) > 500 for m in spec.modules)


def test_quiz_files_read_no_as_norwegian_and_derive_unique_module_ids(tmp_path: Path) -> None:
    path = tmp_path / "quiz.yml"
    path.write_text(
        "title: Vikingtiden\n"
        "language: no\n"
        "modules:\n"
        "  - {name: Vikingtiden, content: Vikingene bygde langskip.,"
        " batches: [{question_type: true_false, count: 2}]}\n"
        "  - {name: Vikingtiden!, content: Tinget laget lover.,"
        " batches: [{question_type: true_false, count: 2}]}\n"
        "  - {module_id: vikingtiden-2, name: Æsir og vaner, content: Odin og Tor.,"
        " batches: [{question_type: true_false, count: 2}]}\n"
        "  - {name: På Østlandet, content: Kaupang i Vestfold.,"
        " batches: [{question_type: true_false, count: 2}]}\n",
        encoding="utf-8",
    )
    spec = load_quiz_file(str(path))
    assert spec.language is Language.NORWEGIAN
    # An id written in the file is never handed out again, even to a module before it.
    assert [m.module_id for m in spec.modules] == [
        "vikingtiden",
        "vikingtiden-3",
        "vikingtiden-2",
        "pa-stlandet",
    ]
