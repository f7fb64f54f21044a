"""The fitted answer step: the shipped parameters load, the fit is honest, its decisions show."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.answer.compose import question_parts
from bot.answer.evaluate import EvalQuestion
from bot.answer.features import ANSWER_FEATURES, MODEL_FEATURES, UNIT_FEATURES
from bot.answer.fit import (
    choose_threshold,
    collect_cases,
    cross_validate,
    document_groups,
    fit_model,
)
from bot.answer.model import AnswerModel, ModelFileError, default_model
from bot.answering import Answerer


def shipped_model() -> AnswerModel:
    return default_model(**MODEL_FEATURES)


CORPUS_QUESTIONS = [
    EvalQuestion("a1", "Hvor mange kommuner er med i helsefellesskapet?",
                 ("003_539dbae2e487e3f7.txt",), ("21",)),
    EvalQuestion("a2", "Hvem deltar på partnerskapsmøtet?", ("002_8cd09686609c0757.txt",),
                 ("ordførere",)),
    EvalQuestion("a3", "Hvilke somatiske sykehus har Vestre Viken?",
                 ("000_83f573777f471351.txt",), ("Kongsberg",)),
    EvalQuestion("a4", "Hva er KAD-plasser?", ("004_222ede703e19ef52.txt",), ("døgn",)),
    EvalQuestion("a5", "Når ble kommunehelsesamarbeidet etablert?",
                 ("001_b62b5ad0e7f9da97.txt",), ("2",)),
    EvalQuestion("u1", "Hva koster parkering ved Drammen sykehus?", kind="unanswerable"),
    EvalQuestion("u2", "Hvem vant fotballcupen i 2023?", kind="unanswerable"),
]  # fmt: skip


def test_shipped_parameters_load_and_match_the_features() -> None:
    model = shipped_model()
    assert model.units.features == UNIT_FEATURES
    assert model.answer.features == ANSWER_FEATURES
    assert 0.0 < model.threshold < 1.0
    assert model.info.get("cross_validation"), "the file records its grouped-CV figures"


def test_a_model_file_from_other_code_is_refused(tmp_path) -> None:
    raw = shipped_model().to_json()
    raw["units"]["features"] = raw["units"]["features"][:-1] + ["renamed"]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ModelFileError, match="hfbot fit"):
        AnswerModel.load(path, **MODEL_FEATURES)


def test_questions_sharing_a_document_share_a_fold_group() -> None:
    qs = [
        EvalQuestion("1", "q", ("a.md",)),
        EvalQuestion("2", "q", ("b.md", "a.md")),
        EvalQuestion("3", "q", ("c.md",)),
        EvalQuestion("4", "q", ("b.md",)),
        EvalQuestion("5", "q", kind="unanswerable"),
    ]
    groups = document_groups(qs)
    assert groups[0] == groups[1] == groups[3]
    assert len({groups[0], groups[2], groups[4]}) == 3


def test_threshold_weighs_right_answers_against_wrong_ones() -> None:
    p = np.array([0.9, 0.8, 0.6, 0.4, 0.3])
    right = np.array([1, 1, 0, 1, 0])
    # A wrong answer at 0.6 costs more than the right one at 0.4 gains: stop above 0.6.
    assert choose_threshold(p, right, np.full(5, 2.0)) == pytest.approx(0.8)
    # Cheap wrong answers: answer down to the last right one.
    assert choose_threshold(p, right, np.full(5, 0.1)) == pytest.approx(0.4)


def test_two_part_questions_are_split_one_part_questions_are_not() -> None:
    assert question_parts("Når ble FOUSAM stiftet, og hvor mange stillinger har de?") == [
        "Når ble FOUSAM stiftet",
        "hvor mange stillinger har de",
    ]
    assert question_parts("Når og hvor var partnerskapsmøtet?") == [
        "Når og hvor var partnerskapsmøtet"
    ]


def test_fit_and_grouped_folds_never_see_the_judged_documents(answerer: Answerer) -> None:
    cases = collect_cases(answerer, CORPUS_QUESTIONS)
    near_misses = [c for c in cases if c.near_miss]
    assert near_misses, "answerable questions are asked again without their sources"
    for case in near_misses:
        assert all(h.chunk.doc.file not in case.item.sources for h in case.hits)
    model = fit_model(answerer, cases)
    rows = np.zeros((2, len(UNIT_FEATURES)))
    rows[1, :] = np.nan  # a unit without a stored vector: missing values are fine
    assert np.isfinite(model.units.probability(rows)).all()
    assert np.isfinite(model.answer.probability(np.zeros((1, len(ANSWER_FEATURES))))).all()

    cv = cross_validate(answerer, CORPUS_QUESTIONS, folds=3)
    judged = [r.item.id for f in cv.folds for r in f.report.results]
    assert sorted(judged) == sorted(q.id for q in CORPUS_QUESTIONS)  # each judged once
    summary = cv.summary()
    assert summary["folds"] == 3 and "in_sample" in summary


def test_a_refusal_shows_the_closest_passage_as_not_an_answer(answerer: Answerer) -> None:
    answer = answerer.answer("Hva koster parkering ved Drammen sykehus?")
    assert answer.abstained
    assert "Nærmeste treff, som ikke svarer sikkert" in answer.text or "Nærmeste" in answer.text
