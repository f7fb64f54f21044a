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

# Runs an ingest that SIGKILLs itself right after the n-th call of one Store method.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from hfbot.settings import load_settings
    from ingest.pipeline import run_ingest
    from ingest.store import Store
    from tests.fakes import FakeEmbedder

    method, nth, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    original = getattr(Store, method)
    calls = [0]

    def killing(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(Store, method, killing)
    run_ingest(load_settings(), [folder], embedder=FakeEmbedder())
    sys.exit(3)  # the kill point was never reached
    """
)

KILL_POINTS = [
    ("mark_pending", 1),
    ("write_chunks", 1),
    ("publish", 1),
    ("sweep", 1),
    ("unpublish", 1),
    ("update_chunk_metadata", 1),
    ("publish", 3),
    ("write_chunks", 2),
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


def _version_two(folder: Path) -> None:
    for name in ("a", "b"):
        path = folder / f"{name}.txt"
        path.write_text(
            path.read_text(encoding="utf-8").replace("Gammel versjon", "Ny versjon"),
            encoding="utf-8",
        )
    (folder / "d.txt").unlink()
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
@pytest.mark.parametrize(("method", "nth"), KILL_POINTS)
def test_killed_ingest_leaves_one_version_and_the_next_run_finishes(
    method: str, nth: int, tmp_path: Path, isolated_env: Path
) -> None:
    _kill_and_finish(method, nth, tmp_path, {})


@pytest.mark.slow
@pytest.mark.parametrize(("method", "nth"), [("write_chunks", 1), ("publish", 2), ("sweep", 1)])
def test_killed_ingest_against_a_chroma_server(
    method: str,
    nth: int,
    tmp_path: Path,
    chroma_server: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, port = chroma_server
    env = {
        "CHROMA_HOST": host,
        "CHROMA_PORT": str(port),
        "HFBOT_COLLECTION": f"crash_{method}_{nth}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _kill_and_finish(method, nth, tmp_path, env)


def _kill_and_finish(method: str, nth: int, tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "corpus"
    _version_one(folder)
    settings = load_settings()
    run_ingest(settings, [folder], embedder=FakeEmbedder())
    _version_two(folder)

    proc = subprocess.run(
        [sys.executable, "-c", KILLER, method, str(nth), str(folder)],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]

    store = Store.open(settings)
    _assert_one_whole_version_each(store)

    report = run_ingest(settings, [folder], embedder=FakeEmbedder())

    assert report.failed == []
    store = Store.open(settings)
    _assert_one_whole_version_each(store)
    docs = store.documents()
    assert sorted(docs) == ["a.txt", "b.txt", "c.txt", "e.txt"]
    assert docs["c.txt"].meta.title == "Dokument C (ny tittel)"
    texts = {c.doc.doc_id: c.text for c in store.live_chunks(docs)}
    assert "Ny versjon" in texts["a.txt"] and "Ny versjon" in texts["b.txt"]
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
        def embed_documents(self, texts, show_progress=False):
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
