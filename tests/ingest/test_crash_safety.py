"""A real ingest process killed with SIGKILL at chosen moments never leaves a half document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hfbot.settings import REPO_ROOT, load_settings
from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder

# Runs an ingest that SIGKILLs itself right after the n-th call of one Store method, or with
# "method>upsert" (or ">delete") after the n-th Chroma write made inside that Store method: a
# write of several documents cut short. An optional batch size makes Chroma writes take that
# many records at most, so that every write of several documents takes several calls.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from chromadb.api.models.Collection import Collection
    from hfbot.settings import load_settings
    from ingest.pipeline import run_ingest
    from ingest.store import Store
    from tests.fakes import FakeEmbedder

    method, nth, folder, batch = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    outer, _, inner = method.partition(">")
    calls, inside = [0], [False]

    def count() -> None:
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    original = getattr(Store, outer)

    def watched(self, *args, **kwargs):
        inside[0] = True
        try:
            result = original(self, *args, **kwargs)
        finally:
            inside[0] = False
        if not inner:
            count()
        return result

    setattr(Store, outer, watched)
    if inner:
        chroma_write = getattr(Collection, inner)

        def write(self, *args, **kwargs):
            result = chroma_write(self, *args, **kwargs)
            if inside[0]:
                count()
            return result

        setattr(Collection, inner, write)
    if batch:
        Store._max_batch = lambda self: batch
    run_ingest(load_settings(), [folder], embedder=FakeEmbedder())
    sys.exit(3)  # the kill point was never reached
    """
)

# The run killed: removes d and f, relabels c (manifest), updates a and b, adds e; the three
# embedded documents are one group, written one step for all of them at a time.
KILL_POINTS = [
    ("mark_pending", 1, 0),  # d and f about to go
    ("unpublish", 1, 0),
    ("sweep", 1, 0),
    ("update_chunk_metadata", 1, 0),
    ("publish", 1, 0),  # c relabelled
    ("mark_pending", 2, 0),  # the group
    ("write_chunks", 1, 0),
    ("publish", 2, 0),
    ("sweep", 2, 0),
    ("clear_pending", 2, 0),
    # One record per Chroma call: a write of several documents cut short after some of them.
    ("unpublish>delete", 1, 1),  # d gone, f still live
    ("mark_pending>upsert", 3, 1),  # a marked, b and e not
    ("write_chunks>upsert", 3, 1),  # some of the group's chunks written
    ("publish>upsert", 2, 1),  # a flipped, b and e not
    ("clear_pending>delete", 3, 1),
]


def _version_one(folder: Path) -> None:
    folder.mkdir()
    (folder / "MANIFEST.yaml").write_text(
        "- file: a.txt\n  title: Dokument A\n  date: 2020-01-01\n"
        "- file: b.txt\n  title: Dokument B\n  date: 2021-01-01\n",
        encoding="utf-8",
    )
    for name, topic in (("a", "legevakt"), ("b", "rehabilitering"), ("c", "barn og unge")):
        sections = [
            f"Sak {n}\n\nGammel versjon av {name}: SSU drøftet {topic} i sak {n} grundig."
            for n in range(30)
        ]
        (folder / f"{name}.txt").write_text("\n\n".join(sections), encoding="utf-8")
    (folder / "d.txt").write_text("Dokument D\n\nDette dokumentet fjernes snart.\n")
    (folder / "f.txt").write_text("Dokument F\n\nDette dokumentet fjernes også.\n")


def _version_two(folder: Path) -> None:
    for name in ("a", "b"):
        path = folder / f"{name}.txt"
        path.write_text(
            path.read_text(encoding="utf-8").replace("Gammel versjon", "Ny versjon"),
            encoding="utf-8",
        )
    (folder / "d.txt").unlink()
    (folder / "f.txt").unlink()
    (folder / "e.txt").write_text("Dokument E\n\nEt helt nytt dokument om samhandling.\n")
    manifest = folder / "MANIFEST.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8") + "- file: c.txt\n  title: Dokument C (ny tittel)\n",
        encoding="utf-8",
    )


def _assert_one_whole_version_each(store: Store) -> None:
    docs = store.documents()
    chunks = store.live_chunks(docs)
    for doc_id, doc in docs.items():
        texts = [c.text for c in chunks if c.doc.doc_id == doc_id]
        assert len(texts) == doc.chunk_count, f"{doc_id}: {len(texts)} of {doc.chunk_count}"
        joined = " ".join(texts)
        assert not ("Gammel versjon" in joined and "Ny versjon" in joined), doc_id


@pytest.mark.slow
@pytest.mark.parametrize(("method", "nth", "batch"), KILL_POINTS)
def test_killed_ingest_leaves_one_version_and_the_next_run_finishes(
    method: str, nth: int, batch: int, tmp_path: Path, isolated_env: Path
) -> None:
    _kill_and_finish(method, nth, batch, tmp_path, {})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "nth", "batch"),
    [("write_chunks", 1, 0), ("publish", 2, 0), ("sweep", 1, 0), ("publish>upsert", 2, 1)],
)
def test_killed_ingest_against_a_chroma_server(
    method: str,
    nth: int,
    batch: int,
    tmp_path: Path,
    chroma_server: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, port = chroma_server
    env = {
        "CHROMA_HOST": host,
        "CHROMA_PORT": str(port),
        "HFBOT_COLLECTION": f"crash_{method.replace('>', '_')}_{nth}_{batch}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _kill_and_finish(method, nth, batch, tmp_path, env)


def _kill_and_finish(
    method: str, nth: int, batch: int, tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "corpus"
    _version_one(folder)
    settings = load_settings()
    run_ingest(settings, [folder], embedder=FakeEmbedder())
    _version_two(folder)

    proc = subprocess.run(
        [sys.executable, "-c", KILLER, method, str(nth), str(folder), str(batch)],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]

    store = Store.open(settings)
    _assert_one_whole_version_each(store)
    # The new document changes again before the next run, which so writes other chunks for it
    # than the killed run may have: whatever that run left of e must be swept all the same.
    (folder / "e.txt").write_text("Dokument E\n\nEt nytt dokument om samhandling, endret.\n")

    report = run_ingest(settings, [folder], embedder=FakeEmbedder())

    assert report.failed == []
    store = Store.open(settings)
    _assert_one_whole_version_each(store)
    docs = store.documents()
    assert sorted(docs) == ["a.txt", "b.txt", "c.txt", "e.txt"]
    assert docs["c.txt"].meta.title == "Dokument C (ny tittel)"
    texts = {c.doc.doc_id: c.text for c in store.live_chunks(docs)}
    assert "Ny versjon" in texts["a.txt"] and "Ny versjon" in texts["b.txt"]
    assert "endret" in texts["e.txt"]
    assert store.pending() == []
    assert store.count() == sum(d.chunk_count for d in docs.values())  # nothing stray
    assert run_ingest(settings, [folder], embedder=FakeEmbedder()).changed is False


# Ingests slowly (a pause per embedded batch) so another process can find it running.
SLOW_INGEST = textwrap.dedent(
    """
    import sys, time
    from hfbot.settings import load_settings
    from ingest.pipeline import run_ingest
    from tests.fakes import FakeEmbedder

    class Slow(FakeEmbedder):
        started = False

        def embed_documents(self, texts, show_progress=False):
            if not self.started:  # chunks, then their units: one word for the test to wait on
                self.started = True
                print("embedding", flush=True)
                time.sleep(3)
            return super().embed_documents(texts)

    report = run_ingest(load_settings(), [sys.argv[1]], embedder=Slow())
    print("added", report.added, flush=True)
    """
)


@pytest.mark.slow
def test_second_ingest_process_gives_up_with_a_clear_message(
    tmp_path: Path, isolated_env: Path, corpus_copy: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    first = subprocess.Popen(
        [sys.executable, "-c", SLOW_INGEST, str(corpus_copy)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "embedding"  # it holds the lock now
        second = subprocess.run(
            [sys.executable, "-m", "hfbot.cli", "ingest", str(corpus_copy), "--json"],
            cwd=REPO_ROOT,
            env={**env, "HFBOT_INGEST_LOCK_TIMEOUT": "0.5"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "another ingest is running" in second.stdout
        assert first.stdout.readline().strip() == "added 5"
    finally:
        if first.poll() is None:
            first.kill()
        first.wait(30)
    store = Store.open(load_settings())
    assert len(store.documents()) == 5 and store.pending() == []
