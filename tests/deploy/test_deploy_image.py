"""deploy/Dockerfile and .dockerignore: the image runs as non-root, starts the worker in exec
form, installs every package at the versions pinned in constraints.txt and keeps secrets out.
No Docker here (CI has none): the files are read and checked against what they must match
(the packages in pyproject.toml, and constraints.txt against pyproject's requirements)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from fnmatch import fnmatch

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.deploy_files import REPO_ROOT, dockerfile_instructions, final_stage

pytestmark = pytest.mark.fast

# The lock file (`./dev lock`) that ./dev and the image install with.
CONSTRAINTS = "constraints.txt"


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
    assert any("." in args for _, args in pip_installs()), "the image never runs pip install ."
    # `alembic upgrade head` needs these next to each other in the working directory.
    assert {"alembic.ini", "migrations"} <= copied_from_context(final_stage())


def pip_installs() -> list[tuple[int, list[str]]]:
    """(instruction index, arguments after `install`) of every `pip install` the RUNs make."""
    found: list[tuple[int, list[str]]] = []
    for index, (keyword, arguments) in enumerate(dockerfile_instructions()):
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|\|\||;", arguments):
            words = shlex.split(command)
            for at, word in enumerate(words[:-1]):
                if word.endswith("pip") and words[at + 1] == "install":
                    found.append((index, words[at + 2 :]))
    return found


def constraint_files(arguments: list[str]) -> list[str]:
    files = []
    for at, argument in enumerate(arguments):
        if argument in {"-c", "--constraint"} and at + 1 < len(arguments):
            files.append(arguments[at + 1])
        elif argument.startswith("--constraint="):
            files.append(argument.partition("=")[2])
        elif argument.startswith("-c") and len(argument) > 2:
            files.append(argument[2:])
    return files


def test_dockerfile_installs_the_pinned_versions() -> None:
    instructions = dockerfile_instructions()
    copied_at = [
        index
        for index, instruction in enumerate(instructions)
        if CONSTRAINTS in copied_from_context([instruction])
    ]
    assert copied_at, f"the Dockerfile does not copy {CONSTRAINTS} into the image's build"
    installs = pip_installs()
    assert installs, "the Dockerfile runs no pip install"
    for index, arguments in installs:
        # Without it a rebuild takes whatever is newest that day, not what the tests ran.
        assert CONSTRAINTS in constraint_files(arguments), (
            f"pip install {' '.join(arguments)}: want -c {CONSTRAINTS}"
        )
        assert copied_at[0] < index, f"{CONSTRAINTS} is copied after the pip install using it"


def constraint_pins() -> dict[str, Version]:
    """constraints.txt as {canonical name: pinned version}; every entry must be an exact pin."""
    pins: dict[str, Version] = {}
    for line in (REPO_ROOT / CONSTRAINTS).read_text().splitlines():
        entry = line.partition("#")[0].strip()
        if not entry:
            continue
        # pip takes no extras, editables or ranges in a constraints file.
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", entry)
        assert match, f"{CONSTRAINTS}: not an exact pin: {entry!r}"
        pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def test_constraints_pin_every_requirement_of_pyproject() -> None:
    """A dependency added or re-bounded in pyproject.toml without `./dev lock` fails here, not
    later in an install that takes an untested release (or refuses the stale pin)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirements = [
        Requirement(text)
        for texts in [project["dependencies"], *project["optional-dependencies"].values()]
        for text in texts
    ]
    pins = constraint_pins()
    stale = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name == canonicalize_name(project["name"]):
            continue  # quizgen[local], the dev extra's own
        if requirement.marker is not None and not requirement.marker.evaluate(
            {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux"}
        ):
            continue
        pinned = pins.get(name)
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            stale.append(f"{requirement} (pinned: {pinned})")
    assert not stale, f"{CONSTRAINTS} does not satisfy pyproject.toml; run ./dev lock: {stale}"


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
