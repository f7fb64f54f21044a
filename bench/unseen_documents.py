"""Unseen documents: the answer step on documents its fit never saw, ingested on their own.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/unseen_documents.py [--part 4] [--which 0]

This is how an outside judge tries the reader: a share of NorQuAD's documents is held out
(every PART-th file, by name, starting at WHICH), the answer step is fitted on every other
question (all four sets, as `hfbot fit` does), and then the held-out documents are ingested
as a corpus of their own and their questions are asked one by one through the real answer
path. The baseline, measured in the same run with the same model, is the folds' view of the
same questions: asked among all 591 NorQuAD documents (the distractors the folds keep).
Printed: first line (lead), answer anywhere, refused, bold exact / token F1, for both, and
the ratio alone/among-all. Both stores are cached (bot.answer.eval_store): a second run
ingests nothing; the first ingests the held-out part (about 150 documents, ~8 minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.answer import fit  # noqa: E402
from bot.answer.eval_store import open_eval_store  # noqa: E402
from bot.answer.evaluate import EvalReport, load_question_sets, run_eval, summary_line  # noqa: E402
from bot.answer.fit import collect_all_cases  # noqa: E402
from hfbot.settings import REPO_ROOT, load_settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared" / "eval"
DOMAIN_SETS = (
    SHARED / "dev-questions.yaml",
    SHARED / "dev-questions-2.yaml",
    REPO_ROOT / "tests" / "answer" / "extra-questions.yaml",
)
DOMAIN_CORPORA = (REPO_ROOT / "corpus", SHARED / "dev-corpus-2")
NORQUAD = SHARED / "norquad"
FIGURES = ("lead_accuracy", "answer_accuracy", "false_abstentions", "span_exact", "span_f1")


def held_out_part(cache_dir: Path, part: int, which: int) -> Path:
    """A folder holding every part-th NorQuAD document (cached: its content names its store)."""
    files = sorted(p for p in (NORQUAD / "corpus").iterdir() if p.is_file())
    chosen = files[which::part]
    folder = Path(cache_dir).expanduser() / "unseen" / f"norquad-{which}-of-{part}"
    if sorted(p.name for p in folder.glob("*")) != [p.name for p in chosen]:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for path in chosen:
            shutil.copy2(path, folder / path.name)
    return folder


def line(tag: str, report: EvalReport) -> dict:
    s = report.summary(None)
    print(f"{tag:28s} {summary_line(s)}", flush=True)
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", type=int, default=4, help="hold out every PART-th document")
    parser.add_argument("--which", type=int, default=0, help="which of the PART shares")
    args = parser.parse_args()
    settings = load_settings()
    folder = held_out_part(settings.cache_dir, args.part, args.which)
    unseen = {p.name for p in folder.iterdir()}

    items = load_question_sets([*DOMAIN_SETS, NORQUAD / "questions.yaml"])
    domain = open_eval_store(settings, list(DOMAIN_CORPORA)).answerer(answer_model=None)
    every = open_eval_store(settings, [*DOMAIN_CORPORA, NORQUAD / "corpus"])
    among_all = every.answerer(answer_model=None)
    for answerer in (domain, among_all):
        answerer.warm_up()
    norquad = [q for q in items if q.set_name == "questions.yaml"]
    cases = collect_all_cases(
        [(domain, [q for q in items if q.set_name != "questions.yaml"]), (among_all, norquad)],
        items,
    )
    train: list[fit.Case] = []
    test: list[fit.Case] = []
    for case in cases:
        (test if set(case.item.sources) & unseen else train).append(case)

    model = fit.fit_model(among_all, train)
    asked = [q for q in norquad if set(q.sources) & unseen]
    print(
        f"{len(unseen)} of NorQuAD's documents held out ({len(asked)} questions); "
        f"the model was fitted on the other {len(train)} cases"
    )
    baseline = line("among all documents (folds)", fit.evaluate_cases(among_all, model, test))
    alone_store = open_eval_store(settings, [folder])
    alone = alone_store.answerer(answer_model=model)
    alone.warm_up()
    measured = line("ingested alone (a judge)", run_eval(alone, asked))
    ratios = "  ".join(
        f"{name} {measured[name] / baseline[name]:.2f}x"
        for name in FIGURES
        if measured.get(name) and baseline.get(name)
    )
    print(f"alone / among all: {ratios}")


if __name__ == "__main__":
    main()
