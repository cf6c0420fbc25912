"""Logging for the worker and the API: readable text by default, JSON lines on request.

Every record about a quiz carries `quiz_id`, and about a batch `batch_key`,
plus the Temporal `workflow_id` and `run_id` when it is written inside an
activity (taken from the activity's context) or a workflow (from the fields
the SDK's `workflow.logger` attaches). In the API, a request about a quiz
binds its id (`bind_quiz`), so its lines, the access log's included, carry it.
In text format they are appended as `key=value`; with `LOG_FORMAT=json` each
line is one JSON object.

Nothing here logs settings: tokens, keys and database passwords never reach a
log line from this module.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from quizgen.names import parse_workflow_id

__all__ = ["JsonFormatter", "QuizContext", "bind_quiz", "configure_logging", "escape_controls"]

_CONTEXT_FIELDS = ("quiz_id", "batch_key", "workflow_id", "run_id", "activity", "attempt")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# The quiz an API request is about (set once the request's quiz is known).
_request_quiz: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "quizgen_request_quiz", default=None
)


def bind_quiz(quiz_id: uuid.UUID) -> None:
    """Mark the rest of this request's log lines as being about this quiz."""
    _request_quiz.set(str(quiz_id))


class QuizContext(logging.Filter):
    """Adds the quiz, batch and Temporal ids of the record's context (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        workflow_id = run_id = None
        if activity.in_activity():
            info = activity.info()
            workflow_id, run_id = info.workflow_id, info.workflow_run_id
            record.activity = info.activity_type
            record.attempt = info.attempt
        elif isinstance(details := getattr(record, "temporal_workflow", None), dict):
            # `workflow.logger` attaches the workflow's ids to each record.
            workflow_id, run_id = details.get("workflow_id"), details.get("run_id")
        if workflow_id:
            record.workflow_id, record.run_id = workflow_id, run_id
            if ids := parse_workflow_id(workflow_id):
                record.quiz_id = ids.quiz_id
                if ids.batch_key:
                    record.batch_key = ids.batch_key
        elif (quiz_id := _request_quiz.get()) is not None:
            record.quiz_id = quiz_id
        return True


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k in _CONTEXT_FIELDS if (v := getattr(record, k, None)) is not None}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# C0 controls and DEL (newlines, ESC, ...) as escapes: a message quoting a teacher's text or
# an LLM's answer can neither forge a log line nor drive a terminal.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def escape_controls(text: str) -> str:
    return text.translate(_CONTROLS)


class _TextFormatter(logging.Formatter):
    """One line per record: the message escaped; a traceback's lines follow indented, so
    none of them can pass for a record of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        line = super().formatMessage(record)
        context = _context(record)
        return line + "".join(f" {k}={v}" for k, v in context.items()) if context else line

    def formatException(self, ei: Any) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    return "\n".join("    " + escape_controls(line) for line in text.splitlines())


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Set up the root logger for a process (`python -m worker`, `python -m api`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else _TextFormatter(_TEXT_FORMAT))
    handler.addFilter(QuizContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's loggers go through the same handler (and format).
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
