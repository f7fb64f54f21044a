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
    folder = tmp_path / "corpus"
    _version_one(folder)
    settings = load_settings()
    run_ingest(settings, [folder], embedder=FakeEmbedder())
    _version_two(folder)

    proc = subprocess.run(
        [sys.executable, "-c", KILLER, method, str(nth), str(folder)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
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
