"""Keeping the web sources current while the bot runs: one fetcher at a time across replicas.

With a PostgreSQL database (several replicas), the turn to fetch is a PostgreSQL advisory
lock: a replica that does not get it leaves the fetch to the one that did. With SQLite (one
process per data dir) a process-local lock is enough; `run_fetch`'s file lock guards the
folder besides.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ingest.web.state import state_path

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from hfbot.settings import Settings
    from ingest.web.fetch import FetchReport

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: any bigint no other lock of this database uses ("hfbot-web").
ADVISORY_KEY = 0x6866626F74_2D77
_LOCAL = threading.Lock()


@contextlib.contextmanager
def fetch_turn(engine: Engine | None) -> Iterator[bool]:
    """True while this process holds the turn to fetch; False when another holds it."""
    if engine is not None and engine.dialect.name == "postgresql":
        from sqlalchemy import text

        # Session-level lock on a connection of its own, outside any transaction.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
            )
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        return
    got = _LOCAL.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            _LOCAL.release()


def fetch_sources(settings: Settings, engine: Engine | None = None) -> FetchReport:
    """Fetch when it is this process's turn; problems come back as warnings, never raised
    (a refresh from Slack or the schedule must still ingest the corpus)."""
    from ingest.web.fetch import FetchBusy, FetchReport, run_fetch
    from ingest.web.sources import SourcesError

    try:
        with fetch_turn(engine) as mine:
            if not mine:
                report = FetchReport()
                report.warnings.append("another replica is fetching the web sources now")
                return report
            return run_fetch(settings)
    except (SourcesError, FetchBusy) as exc:
        report = FetchReport()
        report.warnings.append(str(exc))
        return report
    except Exception as exc:  # a database outage must not stop the corpus refresh
        log.exception("fetching the web sources failed")
        report = FetchReport()
        report.warnings.append(f"fetching the web sources failed: {exc}")
        return report


def last_fetch_at(settings: Settings) -> float | None:
    """When the web state was last saved (by any process sharing the web folder)."""
    try:
        saved = json.loads(state_path(settings.web_dir).read_text(encoding="utf-8"))["saved_at"]
        return datetime.fromisoformat(saved).timestamp()
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SourcesRefreshJob:
    """Fetches the sources every HFBOT_SOURCES_REFRESH_HOURS on a daemon thread, then ingests
    when anything changed. The first run is due an interval after the last fetch, so a
    restart (or a second replica) does not fetch everything again at once."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None,
        ingest: Callable[[], Any],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.ingest = ingest
        self.interval_s = settings.sources_refresh_hours * 3600
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SourcesRefreshJob:
        if self.interval_s > 0 and self.settings.resolved_sources_file.exists():
            self._thread = threading.Thread(target=self._loop, name="hfbot-sources", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def next_wait(self) -> float:
        last = last_fetch_at(self.settings)
        return 0.0 if last is None else max(0.0, last + self.interval_s - self.clock())

    def run_once(self) -> FetchReport:
        report = fetch_sources(self.settings, self.engine)
        for warning in report.warnings:
            log.warning("web sources: %s", warning)
        if report.changed:
            log.info("web sources changed: %s", report.summary().splitlines()[0])
            self.ingest()
        return report

    def _loop(self) -> None:
        wait = self.next_wait()
        while not self._stop.wait(wait):
            try:
                self.run_once()
            except Exception:  # the next interval tries again; the bot keeps answering
                log.exception("web sources: the scheduled refresh failed")
            # Nothing saved (another replica had the turn, or the run failed): a full interval.
            wait = self.next_wait() or self.interval_s
