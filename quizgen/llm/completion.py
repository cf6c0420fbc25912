"""Reading a chat completion an OpenAI-compatible server sent: untrusted, field by field.

The openai client builds its `ChatCompletion` without validating it, so any
field may hold anything (`"prompt_tokens": "many"`, `"choices": "abc"`). What
the answer is *for* and what is only counted are read apart:

- `usage` (what we count): missing or malformed, it is recorded as unknown
  (`usage_known=False`, zero tokens); the questions are used all the same;
- the message's text (what we need): no choices, no message or no text is an
  answer without output (`raw=""`, `output_problem` says why), which
  validation reports as unreadable, so the batch repairs it with a new call,
  as it does unreadable JSON; a retry of the same call would not help;
- a refusal or a content filter stays a `PermanentProviderError`: the same
  content would be refused again.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel

from quizgen.domain import TokenUsage
from quizgen.errors import PermanentProviderError
from quizgen.llm.base import GenerationResponse

__all__ = ["MAX_TOKENS_PER_CALL", "read_completion", "read_usage"]

log = logging.getLogger(__name__)

# No call spends more; a larger count is junk (and would overflow the metrics' counters).
MAX_TOKENS_PER_CALL = 1_000_000_000


def read_completion(completion: BaseModel) -> GenerationResponse:
    """The answer's text and token usage, or a `PermanentProviderError` for a refusal."""
    usage, unknown = read_usage(getattr(completion, "usage", None))
    if unknown:
        log.warning("the LLM server's usage report %s; its tokens are recorded as 0", unknown)
    raw, problem = _read_text(completion)
    if problem:
        log.warning("the LLM server's chat completion is unusable: %s", problem)
    return GenerationResponse(
        raw=raw, usage=usage, usage_known=unknown is None, output_problem=problem
    )


def read_usage(usage: object) -> tuple[TokenUsage, str | None]:
    """The usage report as `TokenUsage`, or zero with what made it unknown."""
    if usage is None:
        return TokenUsage(), "is missing"
    prompt = _count(getattr(usage, "prompt_tokens", None))
    completion = _count(getattr(usage, "completion_tokens", None))
    # Providers with automatic prompt caching report the cached part here; most others don't.
    details = getattr(usage, "prompt_tokens_details", None)
    cached_raw = getattr(details, "cached_tokens", None)
    cached = 0 if cached_raw is None else _count(cached_raw)
    if prompt is None or completion is None or cached is None or cached > prompt:
        return TokenUsage(), f"is malformed ({_shape(usage)})"
    return TokenUsage(
        prompt_tokens=prompt, completion_tokens=completion, cached_prompt_tokens=cached
    ), None


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_TOKENS_PER_CALL else None


def _shape(usage: object) -> str:
    """What was wrong, by field name and type only (the values are the server's junk)."""
    if not isinstance(usage, BaseModel):
        return f"usage is {type(usage).__name__}"
    cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)
    values = {
        "prompt_tokens": getattr(usage, "prompt_tokens", None),
        "completion_tokens": getattr(usage, "completion_tokens", None),
        "cached_tokens": 0 if cached is None else cached,
    }
    wrong = [f"{k} is {type(v).__name__}" for k, v in values.items() if _count(v) is None]
    return ", ".join(wrong) or "cached_tokens exceed prompt_tokens"


def _read_text(completion: BaseModel) -> tuple[str, str | None]:
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        return "", "the LLM's answer held no choices"
    choice = choices[0]
    message = getattr(choice, "message", None)
    refusal = getattr(message, "refusal", None)
    if isinstance(refusal, str) and refusal.strip():
        raise PermanentProviderError(f"the model refused to write these questions: {refusal}")
    finish_reason = getattr(choice, "finish_reason", None)
    if finish_reason == "content_filter":
        raise PermanentProviderError(
            "the provider's content filter blocked the answer; check the module's content"
        )
    content = getattr(message, "content", None)
    if isinstance(content, str) and content.strip():
        # A truncated ("length") answer is returned as is: validation reports it as malformed.
        return content, None
    ended = (
        f" (finish_reason {finish_reason[:40]!r})"
        if isinstance(finish_reason, str) and finish_reason
        else ""
    )
    return "", f"the LLM's answer held no text{ended}"
