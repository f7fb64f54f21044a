"""Slack overhead: signed event in → answer received by a fake Web API, next to in-process
`Answerer.answer` on the same questions in the same run (real model, bundled corpus).

    .venv/bin/python bench/slack.py [--events 50]

Target: p50 overhead (Slack path minus in-process answer) ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = [
    "Hvor mange kommuner er med i helsefellesskapet nå?",
    "Hvem deltar på partnerskapsmøtet?",
    "Hva gjør strategisk samarbeidsutvalg?",
    "Hvilke pasientgrupper er prioritert?",
    "Hva er et faglig samarbeidsutvalg?",
    "Når ble samarbeidsavtalen inngått?",
    "Hvem leder brukerutvalget?",
    "Hva er målet med helsefellesskapene?",
    "Which municipalities take part?",
    "Hvordan samarbeider kommunene med sykehuset om utskrivning?",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hfbot-bench-slack-"))
    os.environ.update(
        {
            "HFBOT_DATA_DIR": str(workdir / "data"),
            "HF_HUB_OFFLINE": "1",
            "HFBOT_RATE_LIMIT_PER_MINUTE": "0",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    from tests.slack.conftest import SIGNING_SECRET
    from tests.slack.fake_slack import FakeSlackAPI

    api = FakeSlackAPI().start()
    os.environ.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,  # the test helpers sign with it
            "SLACK_API_URL": api.api_url,
        }
    )
    from bot.answering import Answerer
    from bot.slack.app import build_app
    from bot.slack.server import make_http_server, slack_wsgi_app, stop_http_server
    from hfbot.settings import load_settings
    from ingest.pipeline import ensure_ingested
    from tests.slack.conftest import Bot

    settings = load_settings()
    answerer = Answerer.from_settings(settings)
    started = time.perf_counter()
    ensure_ingested(settings, store=answerer.store, embedder=answerer.embedder)
    answerer.warm_up()
    print(f"setup (ingest bundled corpus + warm-up): {time.perf_counter() - started:.1f} s")

    app = build_app(settings, answerer)
    server = make_http_server(slack_wsgi_app(app), "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    bot = Bot(f"http://127.0.0.1:{server.socket.getsockname()[1]}", api, None, settings, None)  # type: ignore[arg-type]

    for question in QUESTIONS[:3]:  # warm both paths
        answerer.answer(question)
        bot.mention(question)
        assert bot.extra["last_reply"].status == 200, bot.extra["last_reply"]
    api.wait_for("chat.postMessage", 3, timeout=60)

    in_process: list[float] = []
    via_slack: list[float] = []
    ack: list[float] = []
    for n in range(args.events):
        question = QUESTIONS[n % len(QUESTIONS)]
        t0 = time.perf_counter()
        answerer.answer(question)
        in_process.append((time.perf_counter() - t0) * 1000)

        count = len(api.calls_to("chat.postMessage"))
        sent = time.monotonic()
        bot.mention(question)
        ack.append(bot.extra["last_reply"].seconds * 1000)
        posted = api.wait_for("chat.postMessage", count + 1, timeout=60)[-1]
        # The fake records when the post arrived; measure to that, not to our wake-up.
        via_slack.append((posted.at - sent) * 1000)

    stop_http_server(server)
    api.stop()

    p50_in, p95_in = percentile(in_process, 50), percentile(in_process, 95)
    p50_sl, p95_sl = percentile(via_slack, 50), percentile(via_slack, 95)
    overheads = [s - i for s, i in zip(via_slack, in_process, strict=True)]
    report = {
        "events": args.events,
        "in_process_answer_ms": {"p50": round(p50_in, 1), "p95": round(p95_in, 1)},
        "slack_event_to_answer_posted_ms": {"p50": round(p50_sl, 1), "p95": round(p95_sl, 1)},
        "http_ack_ms": {"p50": round(percentile(ack, 50), 1), "p95": round(percentile(ack, 95), 1)},
        "overhead_ms": {
            "p50_difference": round(p50_sl - p50_in, 1),
            "p95_difference": round(p95_sl - p95_in, 1),
            "median_of_paired_differences": round(statistics.median(overheads), 1),
        },
        "ratio_slack_to_in_process": {
            "p50": round(p50_sl / p50_in, 2),
            "p95": round(p95_sl / p95_in, 2),
        },
        "target_p50_overhead_ms": 50,
    }
    print(json.dumps(report, indent=2))
    verdict = "meets" if p50_sl - p50_in <= 50 else "MISSES"
    print(f"p50 overhead {p50_sl - p50_in:.1f} ms {verdict} the 50 ms target")


if __name__ == "__main__":
    main()
