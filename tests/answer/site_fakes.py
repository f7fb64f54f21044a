"""Doubles for the site refit: a small answer model that reads the code's features (so a test
never depends on the shipped model.json being refitted for them), a fitter whose figures the
test chooses (the guard is tested without running bot.answer.fit), and the folders a refit
reads laid out as on a checkout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot import site_model
from bot.answer.evaluate import EvalQuestion
from bot.answer.features import ANSWER_FEATURES, UNIT_FEATURES
from bot.answer.model import AnswerModel, Logistic
from bot.site_labels import SITE_SET_NAME, Label, LabelPassage
from tests.fakes import FakeEmbedder


def _flat(features: Sequence[str]) -> Logistic:
    n = len(features)
    return Logistic(tuple(features), np.zeros(n), np.ones(n), np.zeros(n), 0.0)


def small_model(**info: object) -> AnswerModel:
    """Every passage equally likely, every answer given (probability 0.5 ≥ threshold 0.5)."""
    return AnswerModel(
        _flat(UNIT_FEATURES), _flat(ANSWER_FEATURES), 0.5, {"embedding_model": "fake", **info}
    )


class StubFitter:
    """Figures as a real fit would report them, chosen by the test."""

    def __init__(self, before: dict, after: dict, site_now: int) -> None:
        self.before, self.after, self.site_now = before, after, site_now
        self.fitted: list[int] = []
        self.seen: list[list[str]] = []  # the question texts of every cross-validation

    def cross_validate(self, questions: Sequence[EvalQuestion]) -> dict[str, int]:
        self.seen.append([q.question for q in questions])
        with_site = any(q.set_name == SITE_SET_NAME for q in questions)
        return dict(self.after if with_site else self.before)

    def evaluate(self, model: AnswerModel | None, questions: Sequence[EvalQuestion]) -> int:
        return self.site_now

    def fit(self, questions: Sequence[EvalQuestion]) -> AnswerModel:
        self.fitted.append(len(questions))
        return small_model(site=True)


MEETING = (
    "Partnerskapsmøtet er helsefellesskapets øverste organ. Det møtes en gang i året og vedtar "
    "planene for samarbeidet mellom kommunene og helseforetaket."
)
KAD = "KAD-plasser er kommunale akutte døgnplasser for pasienter som trenger tilsyn."
PARKING = "Parkering ved sykehuset koster 40 kroner i timen for besøkende."
PARKING_LABEL = Label(
    question="Hva koster det å parkere?",
    passages=(LabelPassage("parking.txt", PARKING),),
    must=("40 kroner",),
)


@dataclass
class ReferenceFolders:
    root: Path  # the repository's root as bot.site_model sees it
    shared: Path  # a reference corpus beside it, recorded as "../shared/dev-corpus"
    site: Path  # HFBOT_CORPUS_DIR
    info: dict  # the shipped model's info (change it to change what the model file says)


def reference_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReferenceFolders:
    """A repository root elsewhere than the current folder, with a reference set and its corpus
    inside it and a second corpus beside it, recorded in the model's info as `hfbot fit` does;
    the site's own corpus (HFBOT_CORPUS_DIR) holds parking.txt. Embeds with the fake."""
    root = tmp_path / "repo"
    (root / "eval").mkdir(parents=True)
    (root / "corpus").mkdir()
    (root / "corpus" / "meeting.txt").write_text(MEETING, encoding="utf-8")
    shared = tmp_path / "shared" / "dev-corpus"
    shared.mkdir(parents=True)
    (shared / "kad.txt").write_text(KAD, encoding="utf-8")
    (root / "eval" / "ref.yaml").write_text(
        yaml.safe_dump(
            [
                {"question": "Hvor ofte møtes partnerskapsmøtet?", "sources": ["meeting.txt"],
                 "must": ["en gang i året"]},
                {"question": "Hva er KAD-plasser?", "sources": ["kad.txt"], "must": ["døgn"]},
                {"question": "Hvem vant fotballcupen?", "kind": "unanswerable"},
            ],
            allow_unicode=True,
        ),
        encoding="utf-8",
    )  # fmt: skip
    site = tmp_path / "site-corpus"
    site.mkdir()
    (site / "parking.txt").write_text(PARKING, encoding="utf-8")
    monkeypatch.setenv("HFBOT_CORPUS_DIR", str(site))
    monkeypatch.setattr(site_model, "REPO_ROOT", root)
    info = {"question_sets": ["eval/ref.yaml"], "corpora": ["corpus", "../shared/dev-corpus"]}
    monkeypatch.setattr(site_model, "shipped_info", lambda: dict(info))
    monkeypatch.setattr(
        "ingest.embedder.make_embedder", lambda settings, model=None: FakeEmbedder()
    )
    return ReferenceFolders(root, shared, site, info)


def improving() -> StubFitter:
    """The site's one label answered after the refit, the reference set unchanged."""
    return StubFitter(before={"ref.yaml": 2}, after={"ref.yaml": 2, SITE_SET_NAME: 1}, site_now=0)
