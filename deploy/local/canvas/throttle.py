"""Canvas's request throttling, per access token: a leaky bucket.

https://developerdocs.instructure.com/services/canvas/readme_basics/throttling: every request
has a cost (`X-Request-Cost`, a float) that fills the bucket, the bucket drains over time,
`X-Rate-Limit-Remaining` is what is left of the quota, parallel requests pay a pre-flight
penalty that is credited back when they finish, and a throttled request gets
"403 Forbidden (Rate Limit Exceeded)". (The page's other copy,
https://developerdocs.instructure.com/services/canvas/basics/file.throttling, says 429 with the
same text; the stand-in answers 403 as the first page and canvas-lms do, and a test can set
`CanvasStandIn.throttle_status = 429`.)

The numbers are canvas-lms's defaults (lib/canvas/request_throttle.rb): a high-water mark of
600, an outflow of 10 per second, an up-front cost of 50. A request's cost here is a fixed
`request_cost` plus the time it took, in seconds, like Canvas's CPU + database time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

HIGH_WATER_MARK = 600.0
OUTFLOW_PER_SECOND = 10.0
UP_FRONT_COST = 50.0

RATE_LIMIT_BODY = "403 Forbidden (Rate Limit Exceeded)"


@dataclass
class Bucket:
    level: float = 0.0
    updated: float = field(default_factory=time.monotonic)

    def drain(self, rate: float) -> None:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.updated) * rate)
        self.updated = now


class LeakyBuckets:
    def __init__(self) -> None:
        self.high_water_mark = HIGH_WATER_MARK
        self.outflow = OUTFLOW_PER_SECOND
        self.up_front_cost = UP_FRONT_COST
        self.buckets: dict[str, Bucket] = {}

    def _bucket(self, key: str) -> Bucket:
        bucket = self.buckets.setdefault(key, Bucket())
        bucket.drain(self.outflow)
        return bucket

    def reserve(self, key: str) -> bool:
        """Take the up-front cost; False (nothing taken) when the bucket is full."""
        bucket = self._bucket(key)
        if bucket.level + self.up_front_cost > self.high_water_mark:
            return False
        bucket.level += self.up_front_cost
        return True

    def settle(self, key: str, cost: float, *, reserved: bool) -> float:
        """Credit the up-front cost back, charge the real one; the quota left."""
        bucket = self._bucket(key)
        if reserved:
            bucket.level = max(0.0, bucket.level - self.up_front_cost)
        bucket.level += cost
        return self.remaining(key)

    def remaining(self, key: str) -> float:
        return max(0.0, self.high_water_mark - self._bucket(key).level)

    def fill(self, key: str, level: float) -> None:
        """Set a bucket's level (a test's shortcut to a nearly exhausted quota)."""
        bucket = self._bucket(key)
        bucket.level = level
