"""What `quizgen` shows: rich tables and the live progress view. Pure: nothing here prints.

Statuses are shown as the API spells them (`ready_for_review_partial`), so what a
person reads is what a script greps for. Ids, statuses and counts never wrap; the
one long-text column of a table (a title, a question) takes the room that is left,
and a batch's last error, often longer than a line, is printed under the table.
Where a table would not fit the terminal, the same facts are printed as lines
that wrap like text (ids are never cut: they are there to be copied).

Text from the API (titles, question texts, errors that quote an LLM) is shown
as it is: never read as rich markup (`[blank_1]` stays, `[/bold]` cannot
break a table), and with control characters replaced, so a title cannot move
the cursor or retitle the terminal.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, JustifyMethod, RenderableType, RenderResult
from rich.measure import Measurement
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from cli.client import ExportView, Json, QuizSummary, QuizView, ReviewCounts
from quizgen.contracts import BatchProgress, QuizProgress
from quizgen.domain import BatchStatus, QuizStatus

__all__ = [
    "export_line",
    "export_status_line",
    "export_view",
    "progress_line",
    "questions_table",
    "quiz_view",
    "quizzes_table",
    "review_line",
]

QUIZ_STYLES: dict[QuizStatus, str] = {
    QuizStatus.READY_FOR_REVIEW: "bold green",
    QuizStatus.READY_FOR_REVIEW_PARTIAL: "bold yellow",
    QuizStatus.FAILED: "bold red",
    QuizStatus.GENERATING_QUESTIONS: "bold cyan",
}
BATCH_STYLES: dict[BatchStatus, str] = {
    BatchStatus.SUCCEEDED: "green",
    BatchStatus.FAILED: "red",
    BatchStatus.RUNNING: "cyan",
    BatchStatus.PENDING: "dim",
}
BAR_WIDTH = 24
QUESTION_TEXT_CHARS = 90


# Bidirectional overrides and isolates reorder what follows them on screen.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _safe(text: str) -> str:
    """`text` with control characters (ESC, BEL, newlines, ...) and bidi overrides as U+FFFD."""
    return "".join(
        "\ufffd" if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS else char
        for char in text
    )


def _status(status: QuizStatus) -> Text:
    return Text(status.value, style=QUIZ_STYLES.get(status, "bold"))


def progress_line(quiz: QuizView) -> str:
    """One plain line per change, for output that is not a terminal (logs, pipes)."""
    return f"{quiz.status.value}: {quiz.progress.message}"


EXPORT_STYLES: dict[str, str] = {
    "published": "bold green",
    "failed": "bold red",
    "cancelled": "bold yellow",
    "waiting_for_canvas": "bold yellow",
    "running": "bold cyan",
    "undoing": "bold cyan",
}


def export_line(export: ExportView) -> str:
    """The export's state and "X of Y questions exported": a line per change when watching."""
    return f"{export.state}: {export.progress}"


def export_status_line(export: ExportView) -> str:
    """The export in one line, for `quizgen status`."""
    line = f"canvas export: {export_line(export)} (course {_safe(export.course_id)})"
    if export.changed:
        line += f"; {export.changed} edited since"
    if export.state == "published" and export.canvas_quiz_url:
        line += f"; {_safe(export.canvas_quiz_url)}"
    elif export.message:
        line += f"; {_safe(export.message)}"
    return line


def export_view(export: ExportView) -> RenderableType:
    """The live view of an export: its title and course, state, and a bar of questions."""
    bar = ProgressBar(
        total=max(export.total, 1),
        completed=min(export.exported, export.total),
        width=BAR_WIDTH,
        complete_style="red" if export.state == "failed" else "cyan",
        finished_style="green",
    )
    progress = Table.grid(padding=(0, 1))
    progress.add_row(bar, Text(export.progress))
    return Group(
        Text.assemble(
            ("Canvas export ", "bold"),
            (_safe(export.title), "bold"),
            f"  course {_safe(export.course_id)}",
        ),
        Text.assemble("state: ", Text(export.state, style=EXPORT_STYLES.get(export.state, "bold"))),
        progress,
    )


def review_line(counts: ReviewCounts) -> str:
    return (
        f"review: {counts.approved} approved, {counts.pending} pending, "
        f"{counts.rejected} rejected; {counts.to_export} to export"
    )


def quiz_view(quiz: QuizView, *, bars: bool) -> RenderableType:
    """Title, status, the progress sentence, a row per batch (bars when watching), errors."""
    parts: list[RenderableType] = [
        Text.assemble((_safe(quiz.title), "bold"), f"  {quiz.id}"),
        Text.assemble("status: ", _status(quiz.status)),
        Text(quiz.progress.message),
    ]
    if quiz.review is not None:
        parts.append(Text(review_line(quiz.review)))
    if quiz.status is QuizStatus.FAILED and quiz.failure_message:
        parts.append(Text(f"reason: {_safe(quiz.failure_message)}", style="red"))
    narrow = Group(*(_batch_line(batch) for batch in quiz.progress.batches))
    tables = [_batches_table(quiz.progress, bars=True)] if bars else []
    parts.append(_Fitted(*tables, _batches_table(quiz.progress, bars=False), narrow))
    parts += [_last_error(batch) for batch in quiz.progress.batches if batch.last_error]
    return Group(*parts)


class _Fitted:
    """The first of `choices` that fits the width without cutting a value; else the last."""

    def __init__(self, *choices: RenderableType) -> None:
        self._choices = choices

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        unbounded = options.update_width(10_000)
        for choice in self._choices[:-1]:
            if Measurement.get(console, unbounded, choice).minimum <= options.max_width:
                yield choice
                return
        yield self._choices[-1]


def _table(caption: str | None = None) -> Table:
    # No outer border: a row is one line where it fits, for people and for grep.
    return Table(caption=caption, show_edge=False, pad_edge=False, box=box.SIMPLE_HEAD)


def _short(table: Table, header: str, justify: JustifyMethod = "left") -> None:
    """A column of ids, statuses or counts: cut short with … when it must, never wrapped."""
    table.add_column(header, justify=justify, no_wrap=True, overflow="ellipsis")


def _long(table: Table, header: str) -> None:
    """The column of free text: it takes the room left and folds onto more lines."""
    table.add_column(header, overflow="fold", ratio=1, min_width=12)


def _batches_table(progress: QuizProgress, *, bars: bool) -> Table:
    table = _table()
    for header in ("batch", "status"):
        _short(table, header)
    if bars:
        table.add_column("progress", no_wrap=True, width=BAR_WIDTH)
    _short(table, "generated", justify="right")
    _short(table, "attempts", justify="right")
    for batch in progress.batches:
        table.add_row(*_batch_cells(batch, bars=bars))
    return table


def _batch_cells(batch: BatchProgress, *, bars: bool) -> list[RenderableType]:
    style = BATCH_STYLES.get(batch.status, "")
    cells: list[RenderableType] = [batch.batch_key, Text(batch.status.value, style=style)]
    if bars:
        cells.append(
            ProgressBar(
                total=max(batch.target_count, 1),
                completed=min(batch.generated_count, batch.target_count),
                width=BAR_WIDTH,
                complete_style="red" if batch.status is BatchStatus.FAILED else "cyan",
                finished_style="green",
            )
        )
    return [*cells, f"{batch.generated_count}/{batch.target_count}", str(batch.attempts)]


def _batch_line(batch: BatchProgress) -> Text:
    return Text.assemble(
        f"{batch.batch_key}  ",
        (batch.status.value, BATCH_STYLES.get(batch.status, "")),
        f"  {batch.generated_count}/{batch.target_count}  attempts {batch.attempts}",
    )


def _last_error(batch: BatchProgress) -> Text:
    # The worker's errors start with "batch <key>: "; the key is shown once.
    error = (batch.last_error or "").removeprefix(f"batch {batch.batch_key}: ")
    return Text.assemble(f"last error of {batch.batch_key}: ", (_safe(error), "red"))


def quizzes_table(quizzes: list[QuizSummary], *, offset: int, count: int) -> RenderableType:
    caption = f"{count} quiz" if count == 1 else f"{count} quizzes"
    if quizzes and (offset > 0 or len(quizzes) < count):
        caption = f"{offset + 1}-{offset + len(quizzes)} of {count} quizzes"
    table = _table(caption)
    _short(table, "id")
    _long(table, "title")
    _short(table, "status")
    _short(table, "saved/target", justify="right")
    _short(table, "created")
    for quiz in quizzes:
        table.add_row(
            str(quiz.id),
            Text(_safe(quiz.title)),
            _status(quiz.status),
            f"{quiz.questions_saved}/{quiz.questions_target}",
            _created(quiz),
        )
    narrow = [
        Text.assemble(
            f"{q.id}  ",
            _status(q.status),
            f"  {q.questions_saved}/{q.questions_target}",
            f"\n  {_safe(q.title)} (created {_created(q)})",
        )
        for q in quizzes
    ]
    return _Fitted(table, Group(*narrow, Text(str(table.caption), style="dim")))


def _created(quiz: QuizSummary) -> str:
    return quiz.created_at.strftime("%Y-%m-%d %H:%M")


def questions_table(questions: list[Json]) -> RenderableType:
    caption = f"{len(questions)} question(s)"
    table = _table(caption)
    for header in ("id", "module", "type", "difficulty", "review"):
        _short(table, header)
    _long(table, "question")
    narrow: list[Text] = []
    for question in questions:
        qid, module, kind, difficulty = (
            str(question.get(key, "")) for key in ("id", "module_id", "question_type", "difficulty")
        )
        # From an API older than review statuses: approved or pending.
        approved = "approved" if question.get("is_approved") else "pending"
        state = str(question.get("review_status") or approved)
        if question.get("source") == "manual":
            state += " (by hand)"
        text = _question_text(question.get("question_data"))
        table.add_row(qid, module, kind, difficulty, state, Text(text))
        narrow.append(Text(f"{qid}  {state}\n  {module} · {kind} · {difficulty}\n  {text}"))
    return _Fitted(table, Group(*narrow, Text(caption, style="dim")))


def _question_text(data: Any) -> str:
    # Every question type has question_text; the table shows its start.
    text = data.get("question_text", "") if isinstance(data, dict) else ""
    flat = _safe(" ".join(str(text).split()))
    if len(flat) > QUESTION_TEXT_CHARS:
        return flat[: QUESTION_TEXT_CHARS - 1] + "…"
    return flat


def courses_table(courses: list[Json]) -> RenderableType:
    """Canvas courses: id, code, name (the names as Canvas has them, never read as markup)."""
    table = _table(f"{len(courses)} course(s) you teach in Canvas")
    _short(table, "id")
    _short(table, "code")
    _long(table, "name")
    for course in courses:
        table.add_row(
            Text(_safe(str(course["id"]))),
            Text(_safe(str(course.get("course_code") or ""))),
            Text(_safe(str(course["name"]))),
        )
    return table
