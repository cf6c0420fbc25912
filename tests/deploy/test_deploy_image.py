"""deploy/Dockerfile and .dockerignore: the image runs as non-root, starts the worker in exec
form, installs every package and keeps secrets out. No Docker here (CI has none): the files
are read and checked against what they must match (the packages in pyproject.toml)."""

from __future__ import annotations

import json
import tomllib
from fnmatch import fnmatch

import pytest

from tests.support.deploy_files import REPO_ROOT, dockerfile_instructions, final_stage

pytestmark = pytest.mark.fast


def exec_form(keyword: str) -> list[str]:
    """The last CMD or ENTRYPOINT of the final stage, which must be a JSON list."""
    found = [arguments for kw, arguments in final_stage() if kw == keyword]
    if not found:
        return []
    try:
        parsed = json.loads(found[-1])
    except json.JSONDecodeError:
        parsed = None
    # The shell form runs the command under /bin/sh, which does not pass SIGTERM on:
    # the worker would never shut down gracefully.
    assert isinstance(parsed, list), f"Dockerfile {keyword} must be exec form: {found[-1]}"
    return [str(part) for part in parsed]


# --- Dockerfile ---


def test_dockerfile_runs_as_non_root() -> None:
    users = [arguments for keyword, arguments in final_stage() if keyword == "USER"]
    assert users, "the final stage of deploy/Dockerfile has no USER: it would run as root"
    uid = users[-1].partition(":")[0]
    # Numeric, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}: want a non-zero numeric uid"


def test_dockerfile_default_command_is_the_worker() -> None:
    command = exec_form("ENTRYPOINT") + exec_form("CMD")
    assert command == ["python", "-m", "worker"], f"default command: {command}"


def copied_from_context(instructions: list[tuple[str, str]]) -> set[str]:
    """The build-context paths the COPY instructions take (not those from another stage)."""
    sources: set[str] = set()
    for keyword, arguments in instructions:
        parts = arguments.split()
        if keyword == "COPY" and not any(part.startswith("--from") for part in parts):
            sources.update(part for part in parts[:-1] if not part.startswith("--"))
    return sources


def test_dockerfile_installs_every_package() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in patterns}
    copied = copied_from_context(dockerfile_instructions())
    assert packages <= copied, f"pyproject packages not copied: {sorted(packages - copied)}"
    missing = sorted(source for source in copied if not (REPO_ROOT / source).exists())
    assert not missing, f"the Dockerfile copies paths that do not exist: {missing}"
    assert any(k == "RUN" and "pip install ." in a for k, a in dockerfile_instructions())
    # `alembic upgrade head` needs these next to each other in the working directory.
    assert {"alembic.ini", "migrations"} <= copied_from_context(final_stage())


def test_dockerignore_keeps_secrets_out_and_sources_in() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert {".env", ".git", ".venv"} <= set(patterns), f".dockerignore: {patterns}"
    ignored = sorted(
        source
        for source in copied_from_context(dockerfile_instructions())
        for pattern in patterns
        if not pattern.startswith("!") and fnmatch(source, pattern)
    )
    assert not ignored, f".dockerignore leaves out what the Dockerfile copies: {ignored}"
