"""Running `quizgen` (the command line) as a subprocess in tests: environment, exit
code and output, a pseudo-terminal for the live view, a closed port."""

from __future__ import annotations

import asyncio
import fcntl
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

from cli.client import ApiClient, Json
from deploy.local.api import ALICE
from quizgen.domain import Difficulty, QuestionType, batch_key

REPO_ROOT = Path(__file__).resolve().parents[2]
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


def cli_env(api: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZGEN_")}
    # Wide, so table cells are not wrapped; unbuffered, so a watcher's lines arrive as printed.
    return {
        **env,
        "QUIZGEN_API": api,
        "QUIZGEN_TOKEN": token,
        "COLUMNS": "200",
        "PYTHONUNBUFFERED": "1",
    }


async def start_cli(api: str, *args: str, token: str = ALICE) -> asyncio.subprocess.Process:
    # Not subprocess.run: the API and the worker run in this event loop and must keep serving.
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args,
        cwd=REPO_ROOT,
        env=cli_env(api, token),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finish(proc: asyncio.subprocess.Process, stdin: bytes | None = None) -> Run:
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
    run = await finish(await start_cli(api, *args, token=token), stdin)
    # Whatever the command and its outcome, the token is never printed.
    assert not token or token not in run.stdout + run.stderr
    return run


async def read_until(proc: asyncio.subprocess.Process, text: str) -> str:
    """The watcher's output up to the line holding `text`."""
    assert proc.stdout is not None
    seen = ""
    async with asyncio.timeout(RUN_SECONDS):
        while text not in seen:
            line = await proc.stdout.readline()
            assert line, f"output ended before {text!r}: {seen}"
            seen += line.decode()
    return seen


async def on_terminal(api: str, *args: str) -> Run:
    """Run with stdout on a pseudo-terminal 120 columns wide, as a person would see it."""
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in cli_env(api, ALICE).items() if k != "COLUMNS"} | {"TERM": "xterm"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args,
        cwd=REPO_ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=terminal,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    os.close(terminal)
    try:
        # Read while it runs (a full terminal would block it); finish bounds the time.
        reading = asyncio.create_task(asyncio.to_thread(read_terminal, master))
        run = await finish(proc)
        screen = await reading
    finally:
        os.close(master)
    return Run(run.code, screen.decode(errors="replace"), run.stderr)


def read_terminal(master: int) -> bytes:
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


def questions_in_process(api: str, quiz_id: str) -> list[Json]:
    # In a thread: the client is synchronous and the API answers from this test's event loop.
    with ApiClient(api, ALICE) as client:
        return client.questions(uuid.UUID(quiz_id))


def closed_port_api() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
