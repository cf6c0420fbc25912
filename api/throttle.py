"""Slowing down token guessing on the sign-in form.

Failed sign-ins are counted per client address over a sliding minute; past
`MAX_FAILURES`, the form answers 429 until the window has moved on, even for
a right token (a guesser must not learn which one was right). Kept in memory
per API process: with several processes the limit applies to each.
"""

from __future__ import annotations

import time
from collections import deque

__all__ = ["MAX_FAILURES", "WINDOW_SECONDS", "SignInThrottle"]

MAX_FAILURES = 10
WINDOW_SECONDS = 60.0
# Addresses remembered at most; past it the oldest state is dropped, never the process.
_MAX_CLIENTS = 10_000


class SignInThrottle:
    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.get(client, deque())
        while failures and failures[0] <= now - WINDOW_SECONDS:
            failures.popleft()
        return failures

    def blocked(self, client: str) -> bool:
        return len(self._recent(client, time.monotonic())) >= MAX_FAILURES

    def failed(self, client: str) -> None:
        now = time.monotonic()
        if len(self._failures) >= _MAX_CLIENTS and client not in self._failures:
            self._failures.clear()
        failures = self._recent(client, now)
        failures.append(now)
        self._failures[client] = failures
