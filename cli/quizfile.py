"""Quiz files: YAML or JSON in the shape of the `POST /quizzes` body, checked locally.

A module's `module_id` may be left out: it is then derived from the module's
name (`Cell biology` -> `cell-biology`), unique within the quiz. Problems come
back as `QuizFileError` with one readable line per problem, before any request.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from pydantic import ValidationError

from quizgen.domain import QuizSpec
from quizgen.module_ids import ModuleIds

__all__ = ["QuizFileError", "derive_module_ids", "load_quiz_file", "read_document"]

STDIN = "-"
# Far more than any quiz the API accepts (~6.3 MB of JSON): past it, not a quiz file.
MAX_FILE_BYTES = 32 * 1024 * 1024
YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json",)


class QuizFileError(Exception):
    """A quiz file that cannot be used: `problems` holds one line per problem."""

    def __init__(self, source: str, summary: str, problems: list[str] | None = None) -> None:
        super().__init__(f"{source}: {summary}")
        self.problems = problems or []


class _QuizYamlLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """YAML where only true/false are booleans.

    YAML 1.1 reads `no` (the Norwegian language code), `yes`, `on` and `off` as
    booleans; a quiz file means the words.
    """


_QuizYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_QuizYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_quiz_file(path: str) -> QuizSpec:
    """The quiz in `path` (`-`: JSON on stdin), validated as the API would."""
    source = "stdin" if path == STDIN else path
    document = read_document(path, source)
    if not isinstance(document, dict):
        raise QuizFileError(source, "a quiz file must hold one object (title, modules, ...)")
    try:
        return QuizSpec.model_validate(derive_module_ids(document))
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        summary = f"not a valid quiz ({len(problems)} problem(s))"
        raise QuizFileError(source, summary, problems) from None


def read_document(path: str, source: str) -> Any:
    """The YAML or JSON document of a file (or of stdin, for `-`), parsed."""
    if path == STDIN:
        return _parse_json(_text(sys.stdin.buffer, source), source)
    suffix = Path(path).suffix.lower()
    if suffix not in YAML_SUFFIXES + JSON_SUFFIXES:
        raise QuizFileError(source, "use a .yaml, .yml or .json file (or - for JSON on stdin)")
    try:
        with Path(path).open("rb") as file:
            text = _text(file, source)
    except OSError as exc:
        raise QuizFileError(source, exc.strerror or "cannot be read") from None
    if suffix in JSON_SUFFIXES:
        return _parse_json(text, source)
    try:
        # A SafeLoader subclass: no arbitrary objects are built.
        return yaml.load(text, Loader=_QuizYamlLoader)
    except yaml.YAMLError as exc:
        raise QuizFileError(source, f"invalid YAML: {_yaml_reason(exc)}") from None
    except RecursionError:
        raise QuizFileError(source, "invalid YAML: nested too deeply") from None


def _text(file: BinaryIO, source: str) -> str:
    """At most MAX_FILE_BYTES of UTF-8 (a byte-order mark is allowed, as editors write it)."""
    data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise QuizFileError(source, f"larger than {MAX_FILE_BYTES // 2**20} MiB: not a quiz file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QuizFileError(source, "not UTF-8 text") from None


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise QuizFileError(source, f"invalid JSON: {reason}") from None
    except (ValueError, RecursionError) as exc:
        # Absurd nesting or numbers.
        raise QuizFileError(source, f"invalid JSON: {type(exc).__name__}") from None


def _yaml_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or "cannot be parsed"
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"


def _problem(error: Any) -> str:
    """`modules[0].batches[1].count: Input should be ...`: where, then what."""
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{path.lstrip('.') or '(quiz)'}: {message}"


def derive_module_ids(document: dict[str, Any]) -> dict[str, Any]:
    """The document with a `module_id` for every module that has a name but no id."""
    modules = document.get("modules")
    if not isinstance(modules, list):
        return document
    # Ids written in the file are kept as they are and never handed out again.
    ids = ModuleIds(
        m["module_id"]
        for m in modules
        if isinstance(m, dict) and isinstance(m.get("module_id"), str)
    )
    derived: list[Any] = []
    for position, module in enumerate(modules, start=1):
        if isinstance(module, dict) and "module_id" not in module:
            name = module.get("name")
            if isinstance(name, str):
                module = {"module_id": ids.next(name, position), **module}
        derived.append(module)
    return {**document, "modules": derived}
