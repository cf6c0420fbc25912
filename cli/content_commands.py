"""Content in from Canvas: a course's modules, a quiz made from its pages and PDFs, where
each item's extraction stands, and a retry of the failed ones.

    quizgen canvas modules COURSE_ID     the modules and their items (pickable or why not)
    quizgen canvas create FILE [--watch] a quiz from a Canvas content file (docs/cli.md)
    quizgen sources QUIZ_ID [--watch]    each item: pending, extracted (size), failed (why)
    quizgen extract QUIZ_ID [--watch]    extract the failed items again (only those)

Exit codes once extraction has ended (with --watch, or `sources` after it ended): 0 every
item extracted, 2 some failed (the quiz can be generated from the rest, or retried), 1 the
quiz failed (no module got text), 4 waiting for a new Canvas token; `sources` without
--watch gives 3 while extraction runs.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.text import Text

from cli.app import AsJson, QuizId, app, config_of, exit_with, out, print_json, say
from cli.canvas_commands import canvas
from cli.client import ApiClient, CliError, Json
from cli.options import EXIT_RECONNECT, Interval, Timeout, watch_option
from cli.quizfile import STDIN, QuizFileError, derive_module_ids, read_document
from cli.watch import EXIT_FAILED, EXIT_PARTIAL, EXIT_READY, EXIT_UNSETTLED, follow

__all__ = ["EXIT_RECONNECT", "load_canvas_file"]

EXTRACTING = "extracting_content"

Watch = Annotated[bool, watch_option("Follow extraction until it ends (exit 0/2/1/4).")]


def load_canvas_file(path: str) -> Json:
    """The `POST /quizzes/from-canvas` body from a YAML/JSON file: `course_id`, and per
    module `name`, `items` (`page: URL`, `file: ID`, or the API's own form) and `batches`;
    `module_id` derived from the name when left out. The API checks the rest."""
    source = "stdin" if path == STDIN else path
    document = read_document(path, source)
    if not isinstance(document, dict) or not isinstance(document.get("modules"), list):
        raise QuizFileError(source, "a Canvas quiz file holds one object with its modules")
    if "course_id" not in document:
        raise QuizFileError(source, "give the Canvas course as course_id")
    body = derive_module_ids({**document, "course_id": str(document["course_id"])})
    problems = []
    for m, module in enumerate(body["modules"]):
        if not isinstance(module, dict) or not isinstance(module.get("items"), list):
            problems.append(f"modules[{m}]: give the module's items (page: URL or file: ID)")
            continue
        module["items"] = [_item(item) for item in module["items"]]
    if problems:
        raise QuizFileError(
            source, f"not a valid Canvas quiz ({len(problems)} problem(s))", problems
        )
    return body


def _item(item: Any) -> Any:
    if isinstance(item, dict) and "type" not in item:
        if "page" in item:
            rest = {k: v for k, v in item.items() if k != "page"}
            return {"type": "Page", "page_url": str(item["page"]), **rest}
        if "file" in item:
            rest = {k: v for k, v in item.items() if k != "file"}
            return {"type": "File", "file_id": str(item["file"]), **rest}
    return item  # the API's own form, or something it will refuse in words


def _sources(client: ApiClient, quiz_id: uuid.UUID) -> tuple[Json, Json]:
    quiz = client.quiz_document(quiz_id)
    found = client.sources(quiz_id)
    if not isinstance(quiz, dict) or not isinstance(found, dict):
        raise CliError("unexpected answer from the API (sources)")
    return quiz, found


def _waiting(quiz: Json) -> bool:
    return quiz.get("status") == EXTRACTING and "reconnect" in str(quiz.get("failure_message"))


def _summary(state: tuple[Json, Json]) -> str:
    quiz, found = state
    items = found.get("data") or []
    counts = {s: sum(i.get("status") == s for i in items) for s in ("extracted", "failed")}
    line = (
        f"{quiz.get('status')}: {counts['extracted']} of {len(items)} items extracted, "
        f"{counts['failed']} failed"
    )
    if _waiting(quiz):
        line += "; Canvas refused the saved token: reconnect with `quizgen canvas connect`"
    return line


def _detail(item: Json) -> str:
    if item.get("status") == "extracted":
        pages = f", {item['pages']} pages" if item.get("pages") else ""
        return f"{item.get('chars', 0)} characters{pages}"
    return str(item.get("reason") or "") if item.get("status") == "failed" else ""


def _view(state: tuple[Json, Json]) -> Text:
    quiz, found = state
    lines = [_summary(state)]
    texts = {m["module_id"]: m for m in found.get("modules") or []}
    for item in found.get("data") or []:
        detail = _detail(item)
        lines.append(
            f"  [{item.get('module_id')}] {item.get('title')}: {item.get('status')}"
            + (f" ({detail})" if detail else "")
        )
    for module_id, module in texts.items():
        lines.append(
            f"module {module_id}: {module.get('state')} ({module.get('chars')} characters)"
        )
    if quiz.get("status") == "failed" and quiz.get("failure_message"):
        lines.append(f"failed: {quiz['failure_message']}")
    return Text("\n".join(lines))


def _code(state: tuple[Json, Json]) -> int:
    quiz, found = state
    if _waiting(quiz):
        return EXIT_RECONNECT
    if quiz.get("status") == EXTRACTING:
        return EXIT_UNSETTLED
    if quiz.get("status") == "failed":
        return EXIT_FAILED
    failed = any(i.get("status") == "failed" for i in found.get("data") or [])
    return EXIT_PARTIAL if failed else EXIT_READY


def _follow(client: ApiClient, quiz_id: uuid.UUID, interval: float, timeout: float | None) -> int:
    state = follow(
        lambda: _sources(client, quiz_id),
        out,
        settled=lambda s: s[0].get("status") != EXTRACTING or _waiting(s[0]),
        view=_view,
        line=_summary,
        final=_view,
        still=lambda s: (
            f"{_summary(s)} after {timeout:g}s; extraction goes on (quizgen sources {quiz_id})"
        ),
        interrupted=f"stopped watching; extraction goes on (quizgen sources {quiz_id})",
        interval=interval,
        timeout=timeout,
    )
    return _code(state)


@canvas.command()
def modules(ctx: typer.Context, course_id: str, as_json: AsJson = False) -> None:
    """The course's modules and their items: pages and PDFs can be picked (their `page:` or
    `file:` reference is shown), other items say why not."""
    if not course_id.isdecimal():
        raise CliError("the course id is a number (quizgen canvas courses lists yours)")
    with config_of(ctx).client() as client:
        found = client.canvas_modules(course_id)
    if as_json:
        print_json(found)
        return
    for module in found or []:
        say(f"{module['name']} (module {module['id']})")
        for item in module.get("items") or []:
            if item.get("supported"):
                ref = (
                    f"page: {item['page_url']}"
                    if item["type"] == "Page"
                    else f"file: {item['file_id']}"
                )
                size = f", {item['size']} bytes" if item.get("size") is not None else ""
                say(f"  {item['title']} [{item['type']}{size}] {ref}")
            else:
                say(f"  {item['title']} [{item['type']}] not supported: {item.get('reason')}")


@canvas.command()
def create(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="A .yaml/.yml/.json Canvas quiz file, or -.")
    ],
    as_json: AsJson = False,
    watch: Watch = False,
    interval: Interval = 1.0,
    timeout: Timeout = None,
) -> None:
    """Create a quiz from a course's pages and PDFs (a Canvas quiz file: docs/cli.md);
    print its id. Its text is then extracted: --watch follows it."""
    body = load_canvas_file(file)
    with config_of(ctx).client() as client:
        created = client.create_from_canvas(body)
        if as_json:
            print_json(created)
        else:
            print(created["id"])
        if watch:
            exit_with(_follow(client, uuid.UUID(created["id"]), interval, timeout))


@app.command()
def sources(
    ctx: typer.Context,
    quiz_id: QuizId,
    as_json: AsJson = False,
    watch: Watch = False,
    interval: Interval = 1.0,
    timeout: Timeout = None,
) -> None:
    """Each Canvas item of the quiz: pending, extracted (characters, pages) or failed (why)."""
    with config_of(ctx).client() as client:
        if watch:
            exit_with(_follow(client, quiz_id, interval, timeout))
            return
        state = _sources(client, quiz_id)
    if as_json:
        print_json(state[1])
    else:
        out.print(_view(state))
    exit_with(_code(state))


@app.command()
def extract(
    ctx: typer.Context,
    quiz_id: QuizId,
    watch: Watch = False,
    interval: Interval = 1.0,
    timeout: Timeout = None,
) -> None:
    """Extract the failed items again (only those; what was extracted is kept)."""
    with config_of(ctx).client() as client:
        answer = client.retry_extraction(quiz_id)
        say(f"retrying {answer['retrying']} failed item(s) (quiz {quiz_id})")
        if watch:
            exit_with(_follow(client, quiz_id, interval, timeout))
