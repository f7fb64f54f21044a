"""The answer step's fitted parameters: which passage answers, and whether to answer at all.

Two models, fitted by `hfbot fit` (bot.answer.fit) on the labelled dev question sets and
stored as a small JSON file beside this module:

- the *unit* model gives each candidate passage (sentence, list item, table row) a probability
  that it holds the answer, from the features bot.answer.features measures;
- the *answer* model gives the best passage a probability that it answers the question, and the
  bot refuses below a threshold chosen on held-out folds.

The feature names are data here: the caller passes the names its code computes (the lists in
bot.answer.features) and a file fitted for other names is refused. So this module imports
nothing of the answer step, and features may use the model without a circle.

The unit model is gradient-boosted trees (LightGBM, stored as its text format inside the JSON)
since it learned from thousands of questions; the answer model may be trees or logistic. Only
numpy and LightGBM are needed here; scikit-learn is used by the fit alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("model.json")


class ModelFileError(ValueError):
    """The parameter file is missing, unreadable or does not match the code's features."""


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic model over named features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, rows: np.ndarray) -> np.ndarray:
        # A missing value (a unit without a stored vector) counts as the fit's average.
        standard = np.nan_to_num((rows - self.mean) / self.scale, nan=0.0)
        return standard @ self.weights + self.bias

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(rows), -30, 30)))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(float(self.bias), 6),
        }

    @classmethod
    def from_json(cls, raw: Mapping, expected: Sequence[str]) -> Logistic:
        features = tuple(raw["features"])
        _check_features(features, expected)
        arrays = [np.asarray(raw[k], dtype=float) for k in ("mean", "scale", "weights")]
        if any(a.shape != (len(features),) for a in arrays):
            raise ModelFileError("the model's arrays do not have one value per feature")
        mean, scale, weights = arrays
        scale = np.where(scale > 0, scale, 1.0)
        return cls(features, mean, scale, weights, float(raw["bias"]))


class Trees:
    """Gradient-boosted trees over named features (LightGBM), kept as LightGBM's own text
    format inside the model file: no pickle, readable, loaded once. Missing values (a unit
    without a stored vector) go down the branch the fit learned for them."""

    def __init__(self, features: Sequence[str], booster_text: str) -> None:
        import lightgbm

        self.features = tuple(features)
        self.booster_text = booster_text
        self._booster = lightgbm.Booster(model_str=booster_text)
        if self._booster.num_feature() != len(self.features):
            raise ModelFileError("the trees do not read one value per named feature")

    def logit(self, rows: np.ndarray) -> np.ndarray:
        # One thread: tens of rows per question, where a thread pool costs more than it saves.
        return self._booster.predict(rows, raw_score=True, num_threads=1)

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(rows), -30, 30)))

    def to_json(self) -> dict:
        return {"kind": "trees", "features": list(self.features), "trees": self.booster_text}

    @classmethod
    def from_json(cls, raw: Mapping, expected: Sequence[str]) -> Trees:
        _check_features(tuple(raw["features"]), expected)
        try:
            return cls(raw["features"], str(raw["trees"]))
        except Exception as exc:  # LightGBM's own error for a damaged model text
            raise ModelFileError(f"the trees cannot be read: {exc}") from exc


Scorer = Logistic | Trees


def scorer_from_json(raw: Mapping, expected: Sequence[str]) -> Scorer:
    """A unit or answer scorer from its JSON: trees when it says so, else logistic."""
    if raw.get("kind") == "trees":
        return Trees.from_json(raw, expected)
    return Logistic.from_json(raw, expected)


def _check_features(features: tuple[str, ...], expected: Sequence[str]) -> None:
    if features != tuple(expected):
        missing = sorted(set(expected) - set(features))
        extra = sorted(set(features) - set(expected))
        raise ModelFileError(
            f"the model's features do not match the code (missing {missing}, extra {extra}):"
            " run `hfbot fit` again"
        )


@dataclass(frozen=True)
class AnswerModel:
    """The unit model, the answer model and the refusal threshold, with how they were fitted."""

    units: Scorer
    answer: Scorer
    threshold: float
    info: dict = field(default_factory=dict)
    spans: Scorer | None = None  # which words of the lead passage answer (bot.answer.span)
    span_threshold: float = 1.0  # the span model's confidence needed for bold

    def answers(self, probability: float) -> bool:
        return probability >= self.threshold

    def to_json(self) -> dict:
        out = {
            "units": self.units.to_json(),
            "answer": self.answer.to_json(),
            "threshold": round(self.threshold, 4),
        }
        if self.spans is not None:
            out["spans"] = self.spans.to_json()
            out["span_threshold"] = round(self.span_threshold, 4)
        out["info"] = self.info
        return out

    def save(self, path: Path = MODEL_FILE) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n")

    @classmethod
    def from_json(
        cls,
        raw: Mapping,
        *,
        unit_features: Sequence[str],
        answer_features: Sequence[str],
        span_features: Sequence[str] = (),
    ) -> AnswerModel:
        """The models in `raw`, refused unless they read exactly these features (a file without
        a span model marks no words)."""
        try:
            threshold = float(raw["threshold"])
            if not math.isfinite(threshold):
                raise ModelFileError("the refusal threshold is not a number")
            spans = None
            if raw.get("spans") and span_features:
                spans = scorer_from_json(raw["spans"], span_features)
            return cls(
                units=scorer_from_json(raw["units"], unit_features),
                answer=scorer_from_json(raw["answer"], answer_features),
                threshold=threshold,
                info=dict(raw.get("info") or {}),
                spans=spans,
                span_threshold=float(raw.get("span_threshold", 1.0)),
            )
        except (KeyError, TypeError) as exc:
            raise ModelFileError(f"the model file lacks {exc}") from exc

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        unit_features: Sequence[str],
        answer_features: Sequence[str],
        span_features: Sequence[str] = (),
    ) -> AnswerModel:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"cannot read {path}: {exc}") from exc
        return cls.from_json(
            raw,
            unit_features=unit_features,
            answer_features=answer_features,
            span_features=span_features,
        )


@cache
def default_model(
    *,
    unit_features: tuple[str, ...],
    answer_features: tuple[str, ...],
    span_features: tuple[str, ...] = (),
) -> AnswerModel:
    """The parameters shipped with the package (fitted on the question sets), for code
    computing these features; loaded once."""
    return AnswerModel.load(
        MODEL_FILE,
        unit_features=unit_features,
        answer_features=answer_features,
        span_features=span_features,
    )
