"""`hfbot ingest --rebuild` fills a new generation of the store while the bot keeps answering from
the old one, switches in one write, and a rebuild killed midway costs nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.answering import Answerer
from hfbot.settings import REPO_ROOT, Settings
from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder

QUESTION = "Når har legevakten i Lier åpent?"
OLD_HOURS = "hele døgnet"
NEW_HOURS = "fra klokken åtte til klokken tjuetre"

# A rebuild in another process, as `hfbot ingest --rebuild` by hand, slowed down (a pause per
# embedding call) so that the bot answers many questions while it runs. Given a Store method, it
# SIGKILLs itself right after that method's n-th call ("<method": right before it).
REBUILD = textwrap.dedent(
    """
    import os, signal, sys, time
    from hfbot.settings import load_settings
    from ingest.pipeline import run_ingest
    from ingest.store import Store
    from tests.fakes import FakeEmbedder

    folder, pause, kill_at, nth = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])

    class Slow(FakeEmbedder):
        def embed_documents(self, texts, show_progress=False):
            print("embedding", flush=True)
            time.sleep(pause)
            return super().embed_documents(texts)

    if kill_at:
        name = kill_at.lstrip("<")
        original, calls = getattr(Store, name), [0]

        def count():
            calls[0] += 1
            if calls[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)

        def watched(self, *args, **kwargs):
            if kill_at.startswith("<"):
                count()
            result = original(self, *args, **kwargs)
            if not kill_at.startswith("<"):
                count()
            return result

        setattr(Store, name, watched)
    report = run_ingest(load_settings(), [folder], embedder=Slow(), rebuild=True)
    print("rebuilt", report.added, flush=True)
    """
)


def _corpus(folder: Path, hours: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "legevakt.txt").write_text(
        f"Legevakt i Lier\n\nLegevakten i Lier har åpent {hours}. "
        "Ring 116 117 før du kommer til legevakten.\n",
        encoding="utf-8",
    )
    for n, topic in enumerate(("rehabilitering", "barn og unge", "psykisk helse")):
        sections = [
            f"Sak {s}\n\nSamarbeidsutvalget drøftet {topic} i sak {s} og ba om en plan."
            for s in range(12)
        ]
        (folder / f"sak{n}.txt").write_text("\n\n".join(sections), encoding="utf-8")
    return folder


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "embedded":
        return settings
    return request.getfixturevalue("server_settings")


def _env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    if settings.chroma_host:
        env |= {
            "CHROMA_HOST": settings.chroma_host,
            "CHROMA_PORT": str(settings.chroma_port),
            "HFBOT_COLLECTION": settings.collection,
        }
    return env


def _rebuild(settings: Settings, folder: Path, *, pause: float, kill_at: str = "", nth: int = 0):
    return subprocess.Popen(
        [sys.executable, "-c", REBUILD, str(folder), str(pause), kill_at, str(nth)],
        cwd=REPO_ROOT,
        env=_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class _Reader:
    """A bot answering the same question in a loop, noting every error and empty answer."""

    answerer: Answerer
    answers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, deadline: float) -> None:
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                answer = self.answerer.answer(QUESTION)
            except Exception as exc:  # what the asker would see as an error
                self.problems.append(f"error: {exc!r}")
                continue
            if answer.abstained or not answer.citations:
                self.problems.append(f"no answer: {answer.text}")
            self.answers.append(answer.text)
            time.sleep(0.02)  # a busy bot, not a spinning one: the rebuild needs the CPU too


def test_the_bot_answers_all_through_a_rebuild_in_another_process_and_then_from_the_new_store(
    store_settings: Settings, tmp_path: Path
) -> None:
    settings = store_settings
    folder = _corpus(tmp_path / "corpus", OLD_HOURS)
    embedder = FakeEmbedder()
    run_ingest(settings, [folder], embedder=embedder)
    reader = _Reader(
        Answerer(settings, store=Store.open(settings), embedder=embedder, index_refresh_s=0.2)
    )
    assert OLD_HOURS in reader.answerer.answer(QUESTION).text

    _corpus(folder, NEW_HOURS)  # what the rebuild reads in, so the new store can be told apart
    thread = threading.Thread(target=reader.run, args=(time.monotonic() + 90,), daemon=True)
    thread.start()
    proc = _rebuild(settings, folder, pause=1.0)
    try:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err[-2000:]
        during = len(reader.answers)
        time.sleep(1.0)  # a few refresh intervals of the reader after the switch
    finally:
        reader.stop.set()
        thread.join(30)
        if proc.poll() is None:
            proc.kill()
    assert "rebuilt 4" in out
    assert reader.problems == []
    assert during >= 5, "the bot must have answered while the rebuild ran"
    assert OLD_HOURS in reader.answers[0] and NEW_HOURS in reader.answers[-1]

    # Only the new generation is left in the store, and a fresh reader answers from it too.
    with Store.open(settings) as store:
        assert store.generations() == [store.current_generation()] != [""]
        assert sorted(store.documents()) == ["legevakt.txt", "sak0.txt", "sak1.txt", "sak2.txt"]


def test_a_handle_opened_before_a_rebuild_reads_the_new_store_after_it(
    settings: Settings, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    folder = _corpus(tmp_path / "corpus", OLD_HOURS)
    run_ingest(settings, [folder], embedder=fake_embedder)
    old = Store.open(settings)
    before = old.corpus_version()
    (folder / "sak2.txt").unlink()
    run_ingest(settings, [folder], embedder=fake_embedder, rebuild=True)
    # The old generation is gone; the handle finds the new one rather than failing.
    assert sorted(old.documents()) == ["legevakt.txt", "sak0.txt", "sak1.txt"]
    assert old.corpus_version() != before
    assert old.count() == sum(d.chunk_count for d in old.documents().values())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kill_at", "nth", "answered_from"),
    [
        ("write_chunks", 1, OLD_HOURS),  # the new generation half filled
        ("set_corpus_version", 1, OLD_HOURS),  # filled, not switched to
        ("<drop_generation", 1, NEW_HOURS),  # switched, the old generation not dropped yet
    ],
)
def test_a_killed_rebuild_leaves_a_whole_store_answering_and_the_next_run_cleans_up(
    kill_at: str, nth: int, answered_from: str, store_settings: Settings, tmp_path: Path
) -> None:
    settings = store_settings
    folder = _corpus(tmp_path / "corpus", OLD_HOURS)
    embedder = FakeEmbedder()
    run_ingest(settings, [folder], embedder=embedder)
    _corpus(folder, NEW_HOURS)

    proc = _rebuild(settings, folder, pause=0.0, kill_at=kill_at, nth=nth)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err[-2000:]

    with Store.open(settings) as store:
        assert len(store.generations()) == 2  # what the killed run left
        docs = store.documents()
        assert len(docs) == 4 and store.count() == sum(d.chunk_count for d in docs.values())
    answer = Answerer(settings, embedder=embedder).answer(QUESTION)
    assert not answer.abstained and answered_from in answer.text

    run_ingest(settings, [folder], embedder=embedder)  # the next run, whatever it does
    with Store.open(settings) as store:
        assert store.generations() == [store.current_generation()]
        assert len(store.documents()) == 4 and store.pending() == []
    assert NEW_HOURS in Answerer(settings, embedder=embedder).answer(QUESTION).text


def test_a_rebuild_drops_only_its_own_generations(
    settings: Settings, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    folder = _corpus(tmp_path / "corpus", OLD_HOURS)
    # Another deployment on the same Chroma, its collection name starting like this one's.
    neighbour = settings.model_copy(update={"collection": f"{settings.collection}_gammel"})
    run_ingest(neighbour, [folder], embedder=fake_embedder)
    run_ingest(settings, [folder], embedder=fake_embedder)
    for _ in range(2):
        run_ingest(settings, [folder], embedder=fake_embedder, rebuild=True)
    with Store.open(neighbour) as store:
        assert len(store.documents()) == 4
    with Store.open(settings) as store:
        assert store.generations() == [store.current_generation()]
