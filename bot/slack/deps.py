"""What the listeners share: settings, the answerer, the bot database, limits and caches."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.slack.feedback import FeedbackStore
from bot.slack.ratelimit import RateLimiter
from bot.types import Answer, Turn

if TYPE_CHECKING:
    from hfbot.settings import Settings

log = logging.getLogger(__name__)


class AnswererLike(Protocol):
    """The read path as the bot uses it (bot.answering.Answerer)."""

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer: ...

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[str]: ...


class QuestionMemo:
    """Recent question texts in memory only, for "Spør sekretariatet" when the database must
    not hold them (HFBOT_STORE_QUESTION_TEXT=false)."""

    def __init__(self, size: int = 2000, ttl_s: float = 24 * 3600) -> None:
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._size = size
        self._ttl_s = ttl_s
        self._lock = threading.Lock()

    def put(self, answer_id: str, question: str) -> None:
        with self._lock:
            self._items[answer_id] = (time.monotonic(), question)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def get(self, answer_id: str) -> str | None:
        with self._lock:
            item = self._items.get(answer_id)
        if item is None or time.monotonic() - item[0] > self._ttl_s:
            return None
        return item[1]


@dataclass
class BotDeps:
    settings: Settings
    answerer: AnswererLike
    feedback: FeedbackStore
    limiter: RateLimiter
    run_ingest: Callable[[], Any]
    # Fetch the web sources (ingest.web): "Oppdater" runs it before the ingest, an upload not.
    fetch_sources: Callable[[], Any]
    documents: Callable[[], dict]
    corpus_version: Callable[[], str]
    stream_interval_s: float = 1.0
    questions: QuestionMemo = field(default_factory=QuestionMemo)
    # One corpus refresh at a time per process; the ingest pipeline guards across processes.
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(
        cls,
        settings: Settings,
        answerer: AnswererLike,
        *,
        feedback: FeedbackStore,
        run_ingest: Callable[[], Any] | None = None,
        fetch_sources: Callable[[], Any] | None = None,
        documents: Callable[[], dict] | None = None,
        corpus_version: Callable[[], str] | None = None,
        stream_interval_s: float = 1.0,
    ) -> BotDeps:
        store_of = _store_opener(settings, answerer)
        return cls(
            settings=settings,
            answerer=answerer,
            feedback=feedback,
            limiter=RateLimiter(settings.rate_limit_per_minute),
            run_ingest=run_ingest or _default_ingest(settings),
            fetch_sources=fetch_sources or _default_fetch(settings, feedback),
            documents=documents or (lambda: store_of().documents()),
            corpus_version=corpus_version or (lambda: store_of().corpus_version()),
            stream_interval_s=stream_interval_s,
        )

    def is_admin(self, user_id: str | None) -> bool:
        return bool(user_id) and user_id in set(self.settings.admins)

    @property
    def streams(self) -> bool:
        """Stream answers into the message only when an LLM writes them."""
        llm_ready = getattr(self.answerer, "llm", True) is not None
        return bool(self.settings.llm) and llm_ready and hasattr(self.answerer, "stream")


def _default_ingest(settings: Settings) -> Callable[[], Any]:
    def run() -> Any:
        from ingest.pipeline import run_ingest

        return run_ingest(settings)

    return run


def _default_fetch(settings: Settings, feedback: Any = None) -> Callable[[], Any]:
    def run() -> Any:
        from ingest.web.refresh import fetch_sources

        # One replica at a time (the database's lock); problems come back in the report.
        return fetch_sources(settings, getattr(feedback, "engine", None))

    return run


def _store_opener(settings: Settings, answerer: AnswererLike) -> Callable[[], Any]:
    """The answerer's store when it exposes one, else the configured store (opened on demand)."""
    opened: list[Any] = []
    lock = threading.Lock()

    def store() -> Any:
        existing = getattr(answerer, "store", None)
        if existing is not None and hasattr(existing, "documents"):
            return existing
        with lock:
            if not opened:
                from ingest.store import Store

                opened.append(Store.open(settings))
            return opened[0]

    return store
