"""Per-user rate limit, so one user cannot queue answer work without bound."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class RateLimiter:
    """At most `per_minute` questions per user in any 60-second window (0 turns it off)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, user_id: str) -> bool:
        """Count a question from the user; False when they are over the limit (not counted)."""
        if self.per_minute <= 0:
            return True
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(user_id, deque())
            while hits and now - hits[0] >= WINDOW_S:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle users now and then
                self._hits = {u: h for u, h in self._hits.items() if h and now - h[-1] < WINDOW_S}
            return True

    def retry_after(self, user_id: str) -> float:
        """Seconds until the user may ask again."""
        with self._lock:
            hits = self._hits.get(user_id)
            if not hits or len(hits) < self.per_minute:
                return 0.0
            return max(0.0, WINDOW_S - (self.clock() - hits[0]))


def slow_down_text(seconds: float) -> str:
    wait = max(1, round(seconds))
    return (
        f"Du spør raskere enn jeg rekker å svare – vent litt (ca. {wait} s) og spør igjen. "
        "Jeg har ikke lagt spørsmålet i kø."
    )
