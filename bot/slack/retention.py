"""HFBOT_RETENTION_DAYS: stored questions, answers and feedback older than that are deleted,
when the bot starts and once a day after, on whichever database the bot uses."""

from __future__ import annotations

import logging
import threading
import time

from bot.slack.feedback import FeedbackStore

log = logging.getLogger(__name__)

DAY_S = 24 * 3600


def purge(feedback: FeedbackStore, days: int, now: float | None = None) -> dict[str, int]:
    """Delete what is older than `days` days (nothing when days is 0); returns counts."""
    if days <= 0:
        return {}
    now = time.time() if now is None else now
    deleted = feedback.delete_older_than(now - days * DAY_S)
    if any(deleted.values()):
        log.info("retention (%d days): deleted %s", days, deleted)
    return deleted


class RetentionJob:
    """Runs `purge` now and then every `interval_s` on a daemon thread until stopped."""

    def __init__(self, feedback: FeedbackStore, days: int, interval_s: float = DAY_S) -> None:
        self.feedback = feedback
        self.days = days
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RetentionJob:
        self._run_once()  # at start, before the first question is stored
        if self.days > 0:
            self._thread = threading.Thread(target=self._loop, name="hfbot-retention", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._run_once()

    def _run_once(self) -> None:
        try:
            purge(self.feedback, self.days)
        except Exception:  # a database outage must not stop the bot; the next day tries again
            log.exception("retention: could not delete old rows")
