"""Where the local stack keeps what outlives a process: `.quizgen/` at the repo root.

The demo's embedded PostgreSQL data, the dev server's history and log, the
services' logs, and the pids of what `./dev demo --stop` ends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["PIDS_DIR", "REPO_ROOT", "STATE_DIR", "remember", "secret_file"]

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = REPO_ROOT / ".quizgen"
PIDS_DIR = STATE_DIR / "pids"


def secret_file(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in `path` (under `STATE_DIR`, mode 0600), made by `make` the first time."""
    if not path.exists():
        STATE_DIR.mkdir(exist_ok=True)
        path.write_text(make() + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def remember(name: str, pid: int) -> None:
    """Note a process that outlives this one, for `./dev demo --stop`."""
    PIDS_DIR.mkdir(parents=True, exist_ok=True)
    (PIDS_DIR / name).write_text(str(pid))
