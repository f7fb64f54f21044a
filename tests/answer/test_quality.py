"""Answer quality with the real embedding model: the targets of the read path, as a test.

The dev set (../shared/eval/dev-questions.yaml) is the development target; the extra questions
in this folder (different wording, nynorsk, English, unanswerable probes) guard against tuning
to the dev set alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer.evaluate import load_questions, run_eval
from bot.answering import Answerer
from hfbot.settings import REPO_ROOT, load_settings
from ingest.embedder import make_embedder
from ingest.pipeline import run_ingest
from ingest.store import Store

pytestmark = pytest.mark.slow

DEV_SET = REPO_ROOT.parent / "shared" / "eval" / "dev-questions.yaml"
EXTRA_SET = Path(__file__).parent / "extra-questions.yaml"


@pytest.fixture(scope="module")
def real_answerer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Answerer]:
    settings = load_settings(HFBOT_DATA_DIR=str(tmp_path_factory.mktemp("quality")))
    store, embedder = Store.open(settings), make_embedder(settings)
    assert not run_ingest(settings, store=store, embedder=embedder).failed
    answerer = Answerer(settings, store=store, embedder=embedder)
    answerer.warm_up()
    yield answerer


@pytest.mark.skipif(not DEV_SET.exists(), reason="the shared dev question set is not here")
def test_dev_questions_meet_the_targets(real_answerer: Answerer) -> None:
    report = run_eval(real_answerer, load_questions(DEV_SET))
    summary = report.summary()
    failed = [(r.item.id, r.answer[:120]) for r in report.results if not r.passed]
    # The fitted reader (bot/answer/model.json), over the bundled corpus alone. Its refusal is
    # fitted mostly on NorQuAD's near misses: one of the two unanswerable questions is answered.
    assert summary["answer_accuracy"] >= 0.85, failed
    assert summary["unanswerable_refused"] >= 1, failed
    assert summary["false_abstentions"] <= 2, failed


def test_unseen_questions_generalise(real_answerer: Answerer) -> None:
    report = run_eval(real_answerer, load_questions(EXTRA_SET))
    summary = report.summary()
    failed = [(r.item.id, r.answer[:120]) for r in report.results if not r.passed]
    # In-sample for the fit too; the held-out figure is the cross-validated one below. Over the
    # bundled corpus alone 9 of the 22 probes are refused (the open weakness of the reader's
    # refusal: it was 21 with the refusal fitted on the domain sets alone, which refused 41 %
    # of NorQuAD's answerable questions).
    assert summary["answer_accuracy"] >= 0.8, failed
    assert summary["abstention_accuracy"] >= 0.35, failed
    assert summary["false_abstentions"] <= 3, failed


DEV_SET_2 = REPO_ROOT.parent / "shared" / "eval" / "dev-questions-2.yaml"
DEV_CORPUS_2 = REPO_ROOT.parent / "shared" / "eval" / "dev-corpus-2"


NORQUAD = REPO_ROOT.parent / "shared" / "eval" / "norquad"
NORQUAD_DOCUMENTS = 60  # of 591: the test ingests these (a minute), the full refit all of them


@pytest.mark.skipif(
    not (DEV_SET_2.exists() and NORQUAD.exists()), reason="the shared question sets are not here"
)
@pytest.mark.timeout(900)  # two stores ingested, then five fits: minutes on 2 cores
def test_cross_validated_reader_holds_on_unseen_documents(tmp_path: Path) -> None:
    """Grouped 5-fold CV as `hfbot fit` runs it, on the three domain sets and a slice of NorQuAD
    (its questions on 60 of its documents, asked among those): each fold answered by a model
    fitted without its documents. Figures when written: NorQuAD first line 0.56, answer 0.64;
    domain 91/130 passed."""
    import shutil

    from bot.answer.eval_store import open_eval_store
    from bot.answer.fit import collect_cases, cross_validate, document_groups

    settings = load_settings(HFBOT_CACHE_DIR=str(tmp_path / "cache"))
    documents = sorted((NORQUAD / "corpus").glob("*.txt"))[:NORQUAD_DOCUMENTS]
    folder = tmp_path / "norquad"
    folder.mkdir()
    for path in documents:
        shutil.copy(path, folder / path.name)
    kept = {p.name for p in documents}
    norquad = [q for q in load_questions(NORQUAD / "questions.yaml") if q.sources[0] in kept]
    domain = [*load_questions(DEV_SET), *load_questions(DEV_SET_2), *load_questions(EXTRA_SET)]
    questions = domain + norquad
    groups = document_groups(questions)
    with (
        open_eval_store(settings, [REPO_ROOT / "corpus", DEV_CORPUS_2]) as ours,
        open_eval_store(settings, [folder]) as theirs,
    ):
        fitting = ours.answerer(answer_model=None)
        cases = collect_cases(fitting, domain, groups[: len(domain)], everything=questions)
        reading = theirs.answerer(answer_model=None)
        cases += collect_cases(reading, norquad, groups[len(domain) :], everything=questions)
        cv = cross_validate(fitting, questions, folds=5, cases=cases)
    sets = cv.pooled.summaries()
    read = sets["questions.yaml"]
    assert read["lead_accuracy"] >= 0.5 and read["answer_accuracy"] >= 0.6, sets
    assert read["false_abstentions"] <= 0.25 * read["questions"], sets
    assert read["span_f1"] is not None, sets  # few spans to learn from in a slice: little bold
    passed = sum(s["passed"] for name, s in sets.items() if name != "questions.yaml")
    assert passed >= 80, sets
