"""Scale benchmark: does hfbot stay fast, small and right with many more documents?

Grows a synthetic Norwegian partnership corpus (bench/synthetic_corpus.py) next to the bundled
corpus to about 1k, 10k and 50k chunks and reports, per size, in one run:
ingest chunks/s, store size on disk, `ask` p50/p95, peak memory of the bot process, and the dev
question set's answer accuracy with all those distractors present. With --server the largest
size (and the bundled corpus alone, as its baseline) is run against a real Chroma server too.

    .venv/bin/python bench/scale.py                                  # real model: ~1 h for 50k
    .venv/bin/python bench/scale.py --embedder fake                  # quick structural run
    .venv/bin/python bench/scale.py --sizes 1000,10000,50000 --server

Ingest and the bot run in child processes (as they do in production), so each one's peak
memory is its own. Figures go to bench/out/scale.json (rewritten after every step).
Targets (issue 5): p50 at 50k <= 3x the bundled p50; bot peak memory < 2.5 GB at 50k;
answer accuracy at 50k within 0.05 of the bundled figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.fakes, for --embedder fake

OUT = REPO / "bench" / "out"
DEV_QUESTIONS = REPO.parent / "shared" / "eval" / "dev-questions.yaml"
RESULT = "RESULT "
# Synthetic chunks per document before the first ingest measures it: MiniLM's English word
# pieces split Norwegian finely, so the real tokenizer makes about twice the fake's chunks.
FIRST_GUESS_CHUNKS_PER_DOC = {"real": 16.0, "fake": 8.0}
INGEST_TIMEOUT_S = 4 * 3600
QUERY_TIMEOUT_S = 3600
SERVER_START_TIMEOUT_S = 60


# ---- helpers shared by the parent and the workers ---------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest rank: a latency that was actually measured."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return float(ordered[max(1, math.ceil(len(ordered) * pct / 100)) - 1])


def folder_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
    return round(total / 1e6, 1)


def emit(payload: dict[str, Any]) -> None:
    print(RESULT + json.dumps(payload, ensure_ascii=False), flush=True)


class RecordingEmbedder:
    """Wraps the benchmark's embedder: remembers every vector, and can hand them back later.

    The server run re-ingests the same texts; reusing the vectors saves ~40 minutes of model
    time there and is reported as such (its chunks/s then measures chunking and store writes).
    """

    def __init__(self, inner: Any, cache_file: Path, reuse: bool) -> None:
        import numpy as np

        self.inner = inner
        self.cache_file = cache_file
        self.reuse = reuse
        self.model_name = inner.model_name  # the pipeline's content hashes include it
        self.max_tokens = inner.max_tokens
        self.count_tokens = inner.count_tokens
        self.vectors: dict[str, Any] = {}
        self.computed = 0
        self.reused = 0
        if cache_file.exists():  # kept either way: save() merges into it
            data = np.load(cache_file)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    def _key(self, text: str) -> str:
        # The model is in the key: a cache from another model's run is never reused.
        return hashlib.sha1(f"{self.model_name}\n{text}".encode()).hexdigest()

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> list:
        import numpy as np

        keys = [self._key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if not (self.reuse and k in self.vectors)]
        if missing:
            fresh = self.inner.embed_documents([texts[i] for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                self.vectors[keys[i]] = np.asarray(vector, dtype=np.float32)
        self.computed += len(missing)
        self.reused += len(texts) - len(missing)
        return [self.vectors[k].tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def save(self) -> None:
        import numpy as np

        if not self.vectors:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        np.savez(
            self.cache_file, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys])
        )


def make_embedder(kind: str, settings: Any) -> Any:
    if kind == "fake":
        from tests.fakes import FakeEmbedder

        return FakeEmbedder()
    from ingest.embedder import make_embedder as make_real

    return make_real(settings)


# ---- workers (child processes) -----------------------------------------------------------------


def ingest_worker(args: argparse.Namespace) -> None:
    from langchain_core.embeddings import Embeddings

    from hfbot.settings import load_settings
    from ingest.pipeline import run_ingest
    from ingest.store import Store

    settings = load_settings()
    recording = RecordingEmbedder(
        make_embedder(args.embedder, settings), Path(args.cache), args.reuse_embeddings
    )
    Embeddings.register(RecordingEmbedder)
    store = Store.open(settings)
    report = run_ingest(settings, store=store, embedder=recording, progress=args.progress)  # type: ignore[arg-type]
    recording.save()
    emit(
        {
            "report": {k: v for k, v in report.to_json().items() if k != "documents"},
            "chunks": report.chunks,
            "seconds": round(report.seconds, 2),
            "embeddings_computed": recording.computed,
            "embeddings_reused": recording.reused,
            "store_chunks": store.count(),
            "store_documents": len(store.documents()),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def query_worker(args: argparse.Namespace) -> None:
    from bot.answer.evaluate import EvalReport, load_questions, score
    from bot.answering import Answerer
    from hfbot.settings import load_settings

    settings = load_settings()
    embedder = make_embedder(args.embedder, settings) if args.embedder == "fake" else None
    started = time.perf_counter()
    answerer = Answerer(settings, embedder=embedder)
    answerer.warm_up()  # model + lexical index, as a bot does before its first question
    warm_up_s = time.perf_counter() - started
    questions = load_questions(DEV_QUESTIONS)
    latencies: list[float] = []
    report = EvalReport()
    for repeat in range(args.repeats):
        for item in questions:
            t0 = time.perf_counter()
            result = answerer.run(item.question)
            latencies.append((time.perf_counter() - t0) * 1000)
            if repeat == 0:
                report.results.append(score(item, result))
    summary = report.summary()
    emit(
        {
            "warm_up_s": round(warm_up_s, 2),
            "ask_p50_ms": round(percentile(latencies, 50), 1),
            "ask_p95_ms": round(percentile(latencies, 95), 1),
            "ask_samples": len(latencies),
            "answer_accuracy": summary["answer_accuracy"],
            "citation_accuracy": summary["citation_accuracy"],
            "unanswerable_refused": f"{summary['unanswerable_refused']}/{summary['unanswerable']}",
            "false_abstentions": summary["false_abstentions"],
            "hit_at_1": summary["hit_at_1"],
            "hit_at_5": summary["hit_at_5"],
            "mrr": summary["mrr"],
            "failed": [r.item.id for r in report.results if not r.passed],
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def copy_worker(args: argparse.Namespace) -> None:
    """Copy the embedded store's collections into the Chroma server named by CHROMA_HOST."""
    from hfbot.settings import load_settings
    from ingest.store import Store

    target = load_settings()
    source = load_settings(chroma_host=None, data_dir=Path(args.copy_from))
    src, dst = Store.open(source), Store.open(target)
    started = time.perf_counter()
    copied = {}
    for name in ("chunks", "registry"):
        from_collection, to_collection = getattr(src, name), getattr(dst, name)
        offset, total = 0, 0
        while True:
            got = from_collection.get(
                include=["embeddings", "documents", "metadatas"], limit=2000, offset=offset
            )
            if not got["ids"]:
                break
            to_collection.upsert(
                ids=got["ids"],
                embeddings=got["embeddings"],
                documents=got["documents"],
                metadatas=got["metadatas"],
            )
            total += len(got["ids"])
            offset += len(got["ids"])
        copied[name] = total
    emit(
        {
            "copied_chunks": copied["chunks"],
            "copied_registry_records": copied["registry"],
            "seconds": round(time.perf_counter() - started, 2),
            "store_chunks": dst.count(),
            "store_documents": len(dst.documents()),
        }
    )


# ---- the parent --------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.workdir).resolve()
        self.corpus = self.work / "corpus"
        self.synthetic = self.corpus / "synthetic"
        self.cache = self.work / f"embeddings-{args.embedder}.npz"
        self.log = self.work / "workers.log"
        self.rows: list[dict[str, Any]] = []
        self.synthetic_docs = 0
        self.synthetic_chunks = 0
        self.chunks_per_doc = FIRST_GUESS_CHUNKS_PER_DOC[args.embedder]

    def say(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def prepare(self) -> None:
        from hfbot.settings import BUNDLED_CORPUS

        if self.work.exists():
            shutil.rmtree(self.work)
        self.synthetic.mkdir(parents=True)
        shutil.copytree(BUNDLED_CORPUS, self.corpus / "bundled")
        self.log.write_text("")

    def worker(self, mode: str, env: dict[str, str], *extra: str) -> dict[str, Any]:
        command = [sys.executable, __file__, "--worker", mode, "--embedder", self.args.embedder]
        command += ["--repeats", str(self.args.repeats), "--cache", str(self.cache), *extra]
        if self.args.progress:
            command.append("--progress")  # the embedding bar goes to workers.log
        timeout = INGEST_TIMEOUT_S if mode == "ingest" else QUERY_TIMEOUT_S
        with self.log.open("a") as log:
            log.write(f"\n=== {mode} {env} {extra}\n")
            log.flush()
            done = subprocess.run(
                command,
                env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=timeout,
                cwd=self.work,
            )
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
        if done.returncode != 0 or not lines:
            tail = self.log.read_text()[-3000:]
            raise RuntimeError(f"{mode} worker failed (exit {done.returncode}):\n{tail}")
        return json.loads(lines[-1].removeprefix(RESULT))

    def grow_to(self, target_chunks: int) -> int:
        """Add synthetic documents until about `target_chunks` synthetic chunks exist."""
        missing = target_chunks - self.synthetic_chunks
        if missing <= 0:
            return 0
        from synthetic_corpus import write_documents

        count = max(1, round(missing / self.chunks_per_doc))
        write_documents(self.synthetic, self.synthetic_docs, self.synthetic_docs + count)
        self.synthetic_docs += count
        return count

    def step(self, label: str, target: int, store: str, env: dict[str, str], data: Path) -> None:
        added_docs = self.grow_to(target) if store == "embedded" else 0
        self.say(f"{store} {label}: ingest ({self.synthetic_docs} synthetic documents) …")
        extra = ["--reuse-embeddings"] if store == "server" else []
        ingest = self.worker("ingest", env, *extra)
        if store == "embedded" and target:
            self.synthetic_chunks += ingest["chunks"]
            if added_docs:
                self.chunks_per_doc = max(1.0, self.synthetic_chunks / self.synthetic_docs)
        self.say(
            f"{store} {label}: {ingest['chunks']} chunks in {ingest['seconds']} s; "
            f"store holds {ingest['store_chunks']}; asking …"
        )
        ask = self.worker("query", env)
        row = {
            "store": store,
            "size": label,
            "target_synthetic_chunks": target,
            "store_chunks": ingest["store_chunks"],
            "store_documents": ingest["store_documents"],
            "ingest": {
                "chunks": ingest["chunks"],
                "seconds": ingest["seconds"],
                "chunks_per_s": round(ingest["chunks"] / max(ingest["seconds"], 1e-9), 1),
                "embeddings_computed": ingest["embeddings_computed"],
                "embeddings_reused": ingest["embeddings_reused"],
                "peak_rss_mb": ingest["peak_rss_mb"],
            },
            "store_mb": folder_mb(data),
            **{f"ask_{k}" if not k.startswith("ask_") else k: v for k, v in ask.items()},
        }
        row["bot_peak_rss_mb"] = row.pop("ask_peak_rss_mb")
        self.rows.append(row)
        self.say(
            f"{store} {label}: p50 {row['ask_p50_ms']} ms, p95 {row['ask_p95_ms']} ms, "
            f"accuracy {row['ask_answer_accuracy']}, bot peak {row['bot_peak_rss_mb']} MB"
        )
        self.save()

    def run(self) -> None:
        self.prepare()
        data = self.work / "embedded-data"
        env = {
            "HFBOT_DATA_DIR": str(data),
            "HFBOT_CORPUS_DIR": str(self.corpus),
            "HFBOT_COLLECTION": "scale",
        }
        self.step("bundled", 0, "embedded", env, data / "chroma")
        for size in self.args.sizes:
            self.step(_label(size), size, "embedded", env, data / "chroma")
        if self.args.server:
            self.run_server()
        self.save(final=True)

    def copy_step(self, label: str, env: dict[str, str], db: Path) -> None:
        """The embedded run's store copied into the server (same chunks and vectors), then asked:
        the server's query figures at a size whose pipeline ingest would take too long twice."""
        self.say(f"server {label}: copying the embedded store into the server …")
        copied = self.worker("copy", env, "--copy-from", str(self.work / "embedded-data"))
        self.say(
            f"server {label}: {copied['copied_chunks']} chunks in {copied['seconds']} s; asking …"
        )
        ask = self.worker("query", env)
        row = {
            "store": "server",
            "size": label,
            "store_chunks": copied["store_chunks"],
            "store_documents": copied["store_documents"],
            "ingest": {
                "copied_from_embedded": copied["copied_chunks"],
                "seconds": copied["seconds"],
                "chunks_per_s": round(copied["copied_chunks"] / max(copied["seconds"], 1e-9), 1),
            },
            "store_mb": folder_mb(db),
            **{k if k.startswith("ask_") else f"ask_{k}": v for k, v in ask.items()},
        }
        row["bot_peak_rss_mb"] = row.pop("ask_peak_rss_mb")
        self.rows.append(row)
        self.say(
            f"server {label}: p50 {row['ask_p50_ms']} ms, p95 {row['ask_p95_ms']} ms, "
            f"accuracy {row['ask_answer_accuracy']}, bot peak {row['bot_peak_rss_mb']} MB"
        )
        self.save()

    def run_server_only(self) -> None:
        """Server rows for an earlier embedded run in the same workdir (its rows are kept)."""
        previous = json.loads(Path(self.args.out).read_text())
        self.rows = [r for r in previous["rows"] if r["store"] == "embedded"]
        self.args.sizes = previous["sizes"]
        self.run_server(copy=True)
        self.save(final=True)

    def run_server(self, copy: bool = False) -> None:
        db = self.work / "server-db"
        for stale in (db, self.work / "server-data-bundled", self.work / "server-data"):
            shutil.rmtree(stale, ignore_errors=True)  # a server run always starts empty
        port = _free_port()
        chroma = Path(sys.executable).parent / "chroma"
        with (self.work / "chroma-server.log").open("w") as log:
            server = subprocess.Popen(
                [str(chroma), "run", "--path", str(db), "--host", "127.0.0.1", "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        try:
            _wait_for_port(port, server)
            base = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)}
            bundled = {
                **base,
                "HFBOT_DATA_DIR": str(self.work / "server-data-bundled"),
                "HFBOT_CORPUS_DIR": str(self.corpus / "bundled"),
                "HFBOT_COLLECTION": "scale_bundled",
            }
            self.step("bundled", 0, "server", bundled, db)
            full = {
                **base,
                "HFBOT_DATA_DIR": str(self.work / "server-data"),
                "HFBOT_CORPUS_DIR": str(self.corpus),
                "HFBOT_COLLECTION": "scale",
            }
            largest = max(self.args.sizes) if self.args.sizes else 0
            if copy:
                self.copy_step(self.rows_label(), full, db)
            else:
                self.step(_label(largest), largest, "server", full, db)
            self.rows[-1]["chroma_server_peak_rss_mb"] = _peak_rss_of(server.pid)
            self.rows[-1]["note"] = "store_mb is the server's whole data folder (both collections)"
            self.save()
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()

    def rows_label(self) -> str:
        """The size the embedded store reached (the last embedded row)."""
        return [r for r in self.rows if r["store"] == "embedded"][-1]["size"]

    def verdict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for store in ("embedded", "server"):
            rows = [r for r in self.rows if r["store"] == store]
            base = next((r for r in rows if r["size"] == "bundled"), None)
            top = rows[-1] if rows and rows[-1] is not base else None
            if base is None or top is None:
                continue
            ratio = top["ask_p50_ms"] / max(base["ask_p50_ms"], 1e-9)
            drop = (base["ask_answer_accuracy"] or 0) - (top["ask_answer_accuracy"] or 0)
            out[store] = {
                "size": top["size"],
                "p50_ratio_to_bundled": round(ratio, 2),
                "p50_within_3x": ratio <= 3.0,
                "bot_peak_rss_mb": top["bot_peak_rss_mb"],
                "memory_under_2_5_gb": top["bot_peak_rss_mb"] < 2500,
                "accuracy_drop": round(drop, 3),
                "accuracy_within_0_05": drop <= 0.05,
            }
        return out

    def save(self, final: bool = False) -> None:
        payload = {
            "embedder": self.args.embedder,
            "sizes": self.args.sizes,
            "server": self.args.server,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "finished": final,
            "rows": self.rows,
            "targets": self.verdict(),
        }
        out = Path(self.args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        if final:
            self.print_table(payload)

    def print_table(self, payload: dict[str, Any]) -> None:
        head = (
            f"{'store':<9}{'size':>8}{'chunks':>8}{'ingest/s':>10}{'MB':>8}"
            f"{'p50 ms':>8}{'p95 ms':>8}{'bot MB':>8}{'acc':>7}"
        )
        print(head)
        for r in payload["rows"]:
            print(
                f"{r['store']:<9}{r['size']:>8}{r['store_chunks']:>8}"
                f"{r['ingest']['chunks_per_s']:>10}{r['store_mb']:>8}{r['ask_p50_ms']:>8}"
                f"{r['ask_p95_ms']:>8}{r['bot_peak_rss_mb']:>8}{r['ask_answer_accuracy']!s:>7}"
            )
        print(json.dumps(payload["targets"], indent=2))
        print(f"written to {self.args.out}")


def _label(size: int) -> str:
    return f"{size / 1000:g}k"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("chroma run exited; see chroma-server.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the Chroma server did not start within {SERVER_START_TIMEOUT_S} s")


def _peak_rss_of(pid: int) -> float | None:
    """VmHWM of a running process (the Chroma server), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000,10000,50000",
        type=lambda v: [int(x) for x in v.split(",") if x.strip()],
        help="synthetic chunk counts, comma-separated (default 1000,10000,50000)",
    )
    parser.add_argument("--server", action="store_true", help="also run on a Chroma server")
    parser.add_argument("--embedder", choices=["real", "fake"], default="real")
    parser.add_argument("--repeats", type=int, default=2, help="passes over the dev questions")
    parser.add_argument("--workdir", default=str(OUT / "scale"))
    parser.add_argument("--out", default=str(OUT / "scale.json"))
    parser.add_argument("--progress", action="store_true", help="progress bar while embedding")
    parser.add_argument(
        "--server-only",
        action="store_true",
        help="add server rows to an earlier run in --workdir: the bundled corpus ingested, the "
        "largest size copied from the embedded store (no second hour of embedding)",
    )
    parser.add_argument("--worker", choices=["ingest", "query", "copy"], help=argparse.SUPPRESS)
    parser.add_argument("--copy-from", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--reuse-embeddings", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "ingest":
        ingest_worker(args)
    elif args.worker == "query":
        query_worker(args)
    elif args.worker == "copy":
        copy_worker(args)
    elif args.server_only:
        Bench(args).run_server_only()
    else:
        if not DEV_QUESTIONS.exists():
            parser.error(f"the dev question set is missing: {DEV_QUESTIONS}")
        args.sizes = sorted(args.sizes)
        Bench(args).run()


if __name__ == "__main__":
    main()
