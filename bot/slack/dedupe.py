"""Answer each Slack event once: Slack re-delivers events it thinks timed out
(`X-Slack-Retry-Num`, or `retry_attempt` in Socket Mode) and Bolt does not drop them."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_bolt.response import BoltResponse

from bot.slack.feedback import SEEN_EVENT_TTL_S, FeedbackStore

log = logging.getLogger(__name__)


class EventDeduper:
    """Remembers event ids in the shared database (so replicas agree), in memory if it is down."""

    def __init__(self, store: FeedbackStore | None, memory_size: int = 10_000) -> None:
        self.store = store
        self._memory: OrderedDict[str, float] = OrderedDict()
        self._memory_size = memory_size
        self._lock = threading.Lock()
        self._last_sweep = 0.0

    def first_sighting(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._memory:
                return False
            self._memory[event_id] = time.time()
            while len(self._memory) > self._memory_size:
                self._memory.popitem(last=False)
        if self.store is None:
            return True
        try:
            first = self.store.first_sighting(event_id)
            self._sweep()
            return first
        except Exception:  # the database is down: the in-memory check above still holds
            log.exception("could not record Slack event %s in the database", event_id)
            return True

    def _sweep(self) -> None:
        now = time.time()
        if now - self._last_sweep < 3600 or self.store is None:
            return
        self._last_sweep = now
        self.store.forget_events_before(now - SEEN_EVENT_TTL_S)


def dedupe_middleware(deduper: EventDeduper) -> Callable[..., BoltResponse | None]:
    """A Bolt global middleware that acks and drops re-delivered events."""

    def drop_redelivered_events(body: dict, next_: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not deduper.first_sighting(str(event_id)):
            log.info("dropping re-delivered Slack event %s", event_id)
            return BoltResponse(status=200, body="")
        next_()
        return None

    return drop_redelivered_events
