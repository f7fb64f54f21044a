"""Ingest benchmark: full pipeline throughput next to the bare encoder, and a no-change re-run.

    .venv/bin/python bench/ingest.py [--copies 10]

1. Full pipeline (load, clean, chunk, embed, write to the embedded Chroma store) over the
   bundled corpus plus altered copies of it, in chunks/s.
2. Plain `SentenceTransformer.encode` of exactly the same chunk texts, in the same process.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hfbot.settings import BUNDLED_CORPUS, load_settings  # noqa: E402
from ingest.embedder import make_embedder  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of the bundled corpus")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hfbot-bench-") as tmp:
        root = Path(tmp)
        corpus = _make_corpus(root, args.copies)
        settings = load_settings(HFBOT_DATA_DIR=str(root / "data"), HFBOT_CORPUS_DIR=str(corpus))
        embedder = make_embedder(settings)
        model = embedder.model
        model.encode(["oppvarming"] * 64, batch_size=embedder.batch_size)  # warm-up
        # One-time start-up on both sides: the model above, the store client and word list here.
        store = Store.open(settings)
        warm_up()

        # CPU time beside wall time: other work on a shared machine skews wall time, not CPU.
        started, cpu = time.perf_counter(), time.process_time()
        report = run_ingest(settings, [corpus], store=store, embedder=embedder)
        pipeline_s, pipeline_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert not report.failed, report.failed

        texts = [c.indexed_text for c in store.live_chunks()]
        started, cpu = time.perf_counter(), time.process_time()
        model.encode(
            texts,
            batch_size=embedder.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        encode_s, encode_cpu = time.perf_counter() - started, time.process_time() - cpu

        pipeline_rate = report.chunks / pipeline_s
        encode_rate = len(texts) / encode_s
        print(f"documents: {report.added}, chunks: {report.chunks} (texts encoded: {len(texts)})")
        for name, wall, rate, cpu_s in (
            ("pipeline:", pipeline_s, pipeline_rate, pipeline_cpu),
            ("encode():", encode_s, encode_rate, encode_cpu),
        ):
            print(f"{name:<10} {wall:7.2f} s  {rate:6.1f} chunks/s  (CPU {cpu_s:.1f} s)")
        print(
            f"ratio pipeline/encode: {pipeline_rate / encode_rate:.2f} wall, "
            f"{encode_cpu / pipeline_cpu:.2f} CPU  (target >= 0.85)"
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
