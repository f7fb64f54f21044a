"""Doubles for the site refit: a small answer model that reads the code's features (so a test
never depends on the shipped model.json being refitted for them), and a fitter whose figures the
test chooses (the guard is tested without running bot.answer.fit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.answer.evaluate import EvalQuestion
from bot.answer.features import ANSWER_FEATURES, UNIT_FEATURES
from bot.answer.model import AnswerModel, Logistic
from bot.site_labels import SITE_SET_NAME


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
