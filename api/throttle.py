"""Slowing down token guessing: failures counted per client, bounded in memory.

Failed sign-ins (the review pages) and requests with a bad bearer token (the
JSON API) are counted per client address over a sliding window; past
`max_failures`, that client is refused (429) until the window has moved on,
even with a right token (a guesser must not learn which one was right).

The client is the real one: behind a trusted proxy (`FORWARDED_ALLOW_IPS`)
uvicorn puts the forwarded address in the request, so ten bad sign-ins from
one browser never lock out another behind the same ingress. Memory is
bounded: at most `max_clients` addresses are remembered; past that, entries
whose failures have all expired go first, then the least recently failed.
No entry is dropped early while it still blocks, except to make room under a
flood of distinct addresses (then the oldest goes, never the whole table).
Kept per API process: with several processes (`API_WORKERS`) each counts its own.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["FailureThrottle"]


class FailureThrottle:
    def __init__(
        self,
        max_failures: int = 10,
        window_seconds: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_clients = max_clients
        self._clock = clock
        # Least recently failed first.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.get(client, deque())
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        return failures

    def blocked(self, client: str) -> bool:
        return len(self._recent(client, self._clock())) >= self.max_failures

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again (0 when it may now)."""
        now = self._clock()
        failures = self._recent(client, now)
        if len(failures) < self.max_failures:
            return 0
        # The oldest failure that keeps the count at the limit must leave the window.
        expires = failures[len(failures) - self.max_failures] + self.window_seconds
        return max(1, math.ceil(expires - now))

    def failed(self, client: str) -> None:
        now = self._clock()
        failures = self._recent(client, now)
        failures.append(now)
        self._failures[client] = failures
        self._failures.move_to_end(client)
        if len(self._failures) > self.max_clients:
            self._make_room(now)

    def __len__(self) -> int:
        return len(self._failures)

    def _make_room(self, now: float) -> None:
        for client in [c for c, f in self._failures.items() if not self._recent(c, now)]:
            del self._failures[client]
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
