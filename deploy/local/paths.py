"""Where the local stack keeps what outlives a process: `.quizgen/` at the repo root.

The demo's embedded PostgreSQL data, the dev server's history and log, the
services' logs, and the pids of what `./dev demo --stop` ends.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PIDS_DIR", "REPO_ROOT", "STATE_DIR", "remember"]

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = REPO_ROOT / ".quizgen"
PIDS_DIR = STATE_DIR / "pids"


def remember(name: str, pid: int) -> None:
    """Note a process that outlives this one, for `./dev demo --stop`."""
    PIDS_DIR.mkdir(parents=True, exist_ok=True)
    (PIDS_DIR / name).write_text(str(pid))
