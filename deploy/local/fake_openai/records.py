"""What `FakeOpenAI` saw: every request recorded, when it arrived and was answered, what it
asked for, what it got, and whether the client hung up first."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from deploy.local.fake_openai.faults import Fault
from deploy.local.fake_openai.prompts import ParsedPrompt, parse_prompt
from quizgen.domain import QuestionType, TokenUsage

# --- what the server saw ----------------------------------------------------------------------


@dataclass
class RecordedRequest:
    index: int
    received_at: float  # time.monotonic()
    body: dict[str, Any]
    authorization: str | None
    # The request's Accept-Encoding header, as the server received it.
    accept_encoding: str | None = None
    answered_at: float | None = None
    status: int | None = None
    fault: Fault | None = None
    # The questions the answer delivered (none when its envelope hid them).
    questions: list[dict[str, Any]] = field(default_factory=list)
    # The usage the answer reported, as a client can count it (zero when a fault garbled it).
    usage: TokenUsage | None = None
    # The client hung up before the answer was sent: it never saw it.
    abandoned: bool = False
    # Body bytes handed to the connection (as sent: compressed when gzip), for `huge` faults.
    bytes_sent: int = 0

    @property
    def model(self) -> str | None:
        return self.body.get("model")

    @property
    def temperature(self) -> float | None:
        return self.body.get("temperature")

    @property
    def response_format_type(self) -> str | None:
        return (self.body.get("response_format") or {}).get("type")

    @property
    def schema_name(self) -> str | None:
        return ((self.body.get("response_format") or {}).get("json_schema") or {}).get("name")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    def _message(self, role: str) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)

    @property
    def system(self) -> str:
        return self._message("system")

    @property
    def user(self) -> str:
        return self._message("user")

    @property
    def prompt(self) -> ParsedPrompt:
        return parse_prompt(self.user)

    @property
    def question_type(self) -> QuestionType | None:
        """From the schema name when there is one, else from the prompt text."""
        name = self.schema_name
        if name and name.endswith("_questions"):
            with contextlib.suppress(ValueError):
                return QuestionType(name.removesuffix("_questions"))
        return self.prompt.question_type

    @property
    def delivered(self) -> bool:
        return self.status == 200 and not self.abandoned and self.usage is not None
