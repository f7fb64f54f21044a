"""A controllable stand-in for bot.answering.Answerer: slow answers, failures, long texts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

from bot.types import Answer, Citation, Turn
from ingest.store import StoreUnavailable

CITATION = Citation(
    n=1,
    file="003_539dbae2e487e3f7.txt",
    title="Partnerskapsmøte i helsefellesskapet",
    date="2022-02-07",
    date_approximate=False,
    location="Deltakere",
    url="https://vestreviken.no/nyheter/partnerskapsmote",
    quote="Partnerskapsmøtet er helsefellesskapets øverste organ.",
)


class ScriptedAnswerer:
    """Answers "Svar på: <question> [1]" with one citation; records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Turn, ...]]] = []
        self.delay_s = 0.0
        self.fail_with: Exception | None = None
        self.fail_times = 0
        self.text: str | None = None  # a fixed answer text
        self.citations: list[Citation] = [CITATION]
        self.stream_parts: list[str] = []
        self._lock = threading.Lock()

    def _maybe_fail(self) -> None:
        with self._lock:
            if self.fail_with is not None and self.fail_times > 0:
                self.fail_times -= 1
                raise self.fail_with

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        with self._lock:
            self.calls.append((question, tuple(history)))
        self._maybe_fail()
        if self.delay_s:
            time.sleep(self.delay_s)
        return Answer(
            question=question,
            text=self.text if self.text is not None else f"Svar på: {question[:200]} [1]",
            abstained=False,
            citations=list(self.citations),
        )

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[str]:
        self._maybe_fail()
        for part in self.stream_parts:
            time.sleep(0.3)
            yield part
        final = self.answer(question, history)
        yield final.text
        return final


def store_down(times: int = 1) -> tuple[Exception, int]:
    return StoreUnavailable("cannot open the Chroma server 127.0.0.1:1: connection refused"), times
