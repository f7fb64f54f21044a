"""Fit the answer step (bot.answer.model) on labelled questions, and cross-validate it honestly.

Labels come from question sets in the eval format:
- a candidate passage of a question's retrieved chunks is a positive when it lies in one of the
  question's source documents and holds one of its `must` strings; every other passage of those
  chunks is a negative ("close but wrong" included);
- a question is worth answering when the answer composed with the unit model holds all of its
  `must` strings. Unanswerable questions are negatives, and so is every answerable question asked
  once more without its source documents (a near miss by construction).

Validation groups questions by document: questions that share a source document fall in one
fold, so no fold is judged on documents its fit has seen. Everything chosen from data (scaling,
weights, the refusal threshold) is chosen inside the training folds.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bot.answer.compose import compose
from bot.answer.evaluate import EvalQuestion, EvalReport, run_eval, score
from bot.answer.features import ANSWER_FEATURES, CHUNKS_READ, UNIT_FEATURES, QuestionScorer
from bot.answer.model import AnswerModel, Logistic, Scorer, Trees
from bot.answer.span import SPAN_FEATURES, confidences, labelled_rows
from bot.answering import Result
from bot.followup import resolve
from bot.retrieval import Hit

log = logging.getLogger(__name__)

# Regularisation: ~130 questions are few, so the weights are kept small (scikit-learn's C).
UNIT_C = 0.3
ANSWER_C = 0.3
# What a wrong answer costs against a right one (+1) when the threshold is chosen. A health
# setting: answering a question the documents do not answer is worse than refusing.
WRONG_ANSWER_COST = 0.2
UNANSWERABLE_COST = 2.0
# Near misses teach the models, but they are constructed and far more frequent than among real
# questions: the threshold is chosen on real questions only.
NEAR_MISS_WEIGHT = 0.0
NEAR_MISS_DEPTH = 40  # how deep retrieval reads before the source documents are dropped
INNER_FOLDS = 3
# Reproducibility: seeds are fixed, the trees deterministic, and retrieval gives the same hits in
# every process (bot.retrieval rounds BM25 scores, and ranks dense hits exactly rather than
# through Chroma's approximate index). Two refits in two processes wrote the same model file.
# The unit ranker weighs a question file of n questions (largest file / n) ** this per
# question: 0, since weighting the small domain files up (0.5, 1.0) put the right unit first
# less often on every set (3 grouped folds).
SET_WEIGHT_POWER = 0.0
# Whether to answer is a decision each question file has its say in: the answer model and its
# threshold weigh a file's questions (largest / n) ** this. Over 3 grouped folds of the four
# sets (domain unanswerable refused; NorQuAD answerable refused; domain passed of 130):
# 0 -> 8/30, 3 %, 88; 0.5 -> 17/30, 6.5 %, 90; 1.0 -> 20/30, 18 %, 88. NorQuAD's near
# misses teach the model; they weigh nothing in the threshold (as NEAR_MISS_WEIGHT says), and
# weighing them in (0.1, 0.3) refused many more answerable questions than unanswerable ones.
THRESHOLD_SET_POWER = 0.5
ANSWER_WEIGHTED_BY_VOTE = True
# Every LightGBM fit: fixed seed, deterministic, the same threads (bit for bit), quiet.
_REPRODUCIBLE = {
    "bagging_freq": 1,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbosity": -1,
}
# The unit model: trees with a ranking objective (which unit comes first is what matters). On
# 3,805 questions, 3 grouped folds, the right unit first for NorQuAD / dev / dev-2 / extra:
# ranking 0.679 / 0.75 / 0.54 / 0.68; as a classifier 0.654 / 0.71 / 0.44 / 0.68; the same
# without the reading features 0.605 / 0.67 / 0.39 / 0.62 (the cosine picker: 0.55 / 0.54 /
# 0.28 / 0.30). Deeper or longer fits, and set weights, did no better.
TREE_PARAMS = _REPRODUCIBLE | {
    "objective": "lambdarank",
    "lambdarank_truncation_level": 20,
    "learning_rate": 0.05,
    "rounds": 300,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "lambda_l2": 1.0,
}
# Trees or logistic for the answer model: within a question either way on the folds; trees
# refused fewer answerable NorQuAD questions (240 vs 295 of 3,705).
ANSWER_MODEL = "trees"
# The span ranker (bold): ranking objective, one right span per passage.
SPAN_PARAMS = _REPRODUCIBLE | {
    "objective": "lambdarank",
    "lambdarank_truncation_level": 10,
    "learning_rate": 0.1,
    "rounds": 150,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
}
SPAN_MIN_QUESTIONS = 50  # fewer annotated spans teach nothing: no bold
SPAN_PRECISION = 0.7  # mean token F1 the bold spans must reach against the annotated answer
SPAN_MIN_BOLD = 20  # a threshold is judged on at least this many bold spans
FIT_SPANS = True
# The answer model: a classifier (its probability is compared with the refusal threshold).
ANSWER_TREE_PARAMS = _REPRODUCIBLE | {
    "objective": "binary",
    "learning_rate": 0.05,
    "rounds": 200,
    "num_leaves": 7,
    "min_data_in_leaf": 30,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "lambda_l2": 1.0,
}
CV_FIGURES = ("answer_accuracy", "lead_accuracy", "abstention_accuracy", "citation_accuracy")


@dataclass
class Case:
    """One question as the fit sees it: what retrieval found, and what a right answer holds."""

    item: EvalQuestion
    group: int
    question: str
    context: str
    hits: list[Hit]
    near_miss: bool = False
    weight: float = 1.0  # its question file's weight in the models' fit (set_weights)
    vote: float = 1.0  # its question file's weight in choosing the refusal threshold
    scorer: QuestionScorer | None = field(default=None, repr=False)

    @property
    def answerable(self) -> bool:
        return not self.item.unanswerable and not self.near_miss


@dataclass
class FoldFigures:
    fold: int
    questions: int
    report: EvalReport


@dataclass
class CrossValidation:
    """Grouped K-fold figures beside the in-sample figure of a fit on everything."""

    folds: list[FoldFigures] = field(default_factory=list)
    pooled: EvalReport = field(default_factory=EvalReport)
    in_sample: EvalReport | None = None
    full: AnswerModel | None = None

    def summary(self) -> dict:
        per_fold = [f.report.summary() for f in self.folds]

        def spread(key: str) -> dict:
            values = [s[key] for s in per_fold if s[key] is not None]
            if not values:
                return {"mean": None, "sd": None}
            sd = statistics.pstdev(values) if len(values) > 1 else 0.0
            return {"mean": round(statistics.fmean(values), 3), "sd": round(sd, 3)}

        out = {
            "folds": len(self.folds),
            "pooled": self.pooled.summary(),
            "sets": self.pooled.summaries(),
            "per_fold": {k: spread(k) for k in CV_FIGURES},
        }
        if self.in_sample is not None:
            out["in_sample"] = self.in_sample.summary()
            out["in_sample_sets"] = self.in_sample.summaries()
        return out


def document_groups(questions: Sequence[EvalQuestion]) -> list[int]:
    """A group per set of questions linked by shared source documents (unanswerable: alone)."""
    parent = list(range(len(questions)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, item in enumerate(questions):
        for source in item.sources:
            if source in owner:
                parent[find(i)] = find(owner[source])
            else:
                owner[source] = i
    return [find(i) for i in range(len(questions))]


def collect_cases(
    answerer,
    questions: Sequence[EvalQuestion],
    groups: Sequence[int] | None = None,
    everything: Sequence[EvalQuestion] | None = None,
) -> list[Case]:
    """Retrieve once per question (as the bot does), plus each answerable question's near miss.

    Question files asked against different stores are collected with each store's answerer:
    `groups` (document_groups) and the set weights then come from `everything` asked."""
    everything = everything if everything is not None else questions
    groups = groups if groups is not None else document_groups(questions)
    position = {id(q): i for i, q in enumerate(everything)}
    fit_weights = set_weights(everything, SET_WEIGHT_POWER)
    votes = set_weights(everything, THRESHOLD_SET_POWER)
    weights = [fit_weights[position[id(q)]] for q in questions]
    say = [votes[position[id(q)]] for q in questions]
    index = answerer.retriever.index()
    cases: list[Case] = []
    k = max(answerer.settings.top_k, 5)
    for item, group, weight, vote in zip(questions, groups, weights, say, strict=True):
        resolved = resolve(item.question.strip(), ())
        query = resolved.search_text
        hits = answerer.retriever.search(query, k=k)
        case = Case(item, group, resolved.question, resolved.context, hits, False, weight, vote)
        case.scorer = QuestionScorer(case.question, index, case.context, None)
        cases.append(case)
        if item.unanswerable or not item.sources:
            continue
        deep = answerer.retriever.search(query, k=NEAR_MISS_DEPTH)
        others = [h for h in deep if h.chunk.doc.file not in item.sources][:k]
        for hit in others:
            hit.query_vector = deep[0].query_vector
        near = Case(item, group, resolved.question, resolved.context, others, True, weight, vote)
        near.scorer = QuestionScorer(near.question, index, near.context, None)
        cases.append(near)
    return cases


def collect_all_cases(
    groups: Sequence[tuple[object, Sequence[EvalQuestion]]], items: Sequence[EvalQuestion]
) -> list[Case]:
    """The cases of every question in `items`, each subset retrieved by its own answerer (the
    domain sets from their documents, NorQuAD's from its own), grouped by document over all."""
    numbers = document_groups(items)
    position = {id(q): i for i, q in enumerate(items)}
    cases: list[Case] = []
    for answerer, subset in groups:
        subset_groups = [numbers[position[id(q)]] for q in subset]
        cases += collect_cases(answerer, subset, subset_groups, everything=items)
    return cases


def set_weights(questions: Sequence[EvalQuestion], power: float) -> list[float]:
    """A weight per question so that a small question file is not drowned by a large one: the
    largest file's questions weigh 1, another file's (largest / its size) ** power."""
    sizes = Counter(q.set_name for q in questions)
    largest = max(sizes.values(), default=1)
    return [(largest / sizes[q.set_name]) ** power for q in questions]


def _scorer(case: Case, units: Scorer | None) -> QuestionScorer:
    """The case's scorer (made by collect_cases over its own store's index; kept, as it measures
    the units once) with `units` as its model."""
    assert case.scorer is not None, "cases come from collect_cases"
    case.scorer.model = units
    return case.scorer


def unit_rows(
    cases: Sequence[Case],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels, question numbers and weights of every candidate passage of the
    answerable questions whose candidates hold a right one (a question's rows together)."""
    rows: list[np.ndarray] = []
    labels: list[int] = []
    questions: list[int] = []
    weights: list[float] = []
    for number, case in enumerate(cases):
        if not case.answerable or not case.item.must:
            continue
        musts = [m.lower() for m in case.item.must]
        scored = _scorer(case, None).score(case.hits[:CHUNKS_READ])
        found = [
            int(
                s.hit.chunk.doc.file in case.item.sources
                and any(m in s.unit.text.lower() for m in musts)
            )
            for s in scored
        ]
        if not any(found):
            continue  # nothing to learn from: the answer is not in one unit of what was read
        for s, label in zip(scored, found, strict=True):
            rows.append(s.features)
            labels.append(label)
            questions.append(number)
            weights.append(case.weight)
    width = len(UNIT_FEATURES)
    return (
        np.array(rows).reshape(-1, width),
        np.array(labels, dtype=int),
        np.array(questions, dtype=int),
        np.array(weights, dtype=float),
    )


def _passes(case: Case, text: str) -> bool:
    lowered = text.lower()
    return case.answerable and all(m.lower() in lowered for m in case.item.must)


def answer_rows(
    cases: Sequence[Case], units: Scorer
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per case: the composed answer's ANSWER_FEATURES, whether it is right, its group, its
    weight in the fit, and for the threshold the cost of a wrong answer and the gain of a
    right one."""
    rows, labels, groups, costs, weights, votes = [], [], [], [], [], []
    for case in cases:
        scorer = _scorer(case, units)
        composition = compose(case.question, case.hits, scorer.index, scorer, case.context, units)
        if composition.features is None:
            continue  # nothing retrieved: refused whatever the model says
        rows.append(composition.features)
        labels.append(int(_passes(case, composition.text)))
        groups.append(case.group)
        weights.append(case.weight)
        votes.append(case.vote)
        if case.near_miss:
            costs.append(UNANSWERABLE_COST * NEAR_MISS_WEIGHT)
        elif case.item.unanswerable:
            costs.append(UNANSWERABLE_COST)
        else:
            costs.append(WRONG_ANSWER_COST)
    return (
        np.array(rows).reshape(-1, len(ANSWER_FEATURES)),
        np.array(labels, dtype=int),
        np.array(groups, dtype=int),
        np.array(weights, dtype=float),
        np.array(costs, dtype=float) * np.array(votes, dtype=float),
        np.array(votes, dtype=float),
    )


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    c: float,
    weights: np.ndarray | None = None,
) -> Logistic:
    """A class-balanced, L2-regularised logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression

    mean = np.nanmean(x, axis=0) if x.size else np.zeros(len(names))
    mean = np.nan_to_num(mean)
    scale = np.nan_to_num(np.nanstd(x, axis=0)) if x.size else np.ones(len(names))
    scale = np.where(scale > 1e-9, scale, 1.0)
    if len(set(y.tolist())) < 2:
        # One class only (a tiny fold): a constant model that says what it saw.
        bias = 4.0 if y.size and y[0] == 1 else -4.0
        return Logistic(tuple(names), mean, scale, np.zeros(len(names)), bias)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit(np.nan_to_num((x - mean) / scale, nan=0.0), y, sample_weight=weights)
    return Logistic(tuple(names), mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def fit_trees(
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    weights: np.ndarray | None = None,
    params: dict | None = None,
) -> Trees | Logistic:
    """Gradient-boosted trees (LightGBM; by default the answer model's classifier), fitted the
    same way bit for bit every time."""
    import lightgbm

    if len(set(y.tolist())) < 2 or len(y) < 50:
        return fit_logistic(x, y, names, UNIT_C, weights)
    data = lightgbm.Dataset(x, y, weight=weights, feature_name=list(names), free_raw_data=True)
    return _train(params or ANSWER_TREE_PARAMS, data, names)


def fit_unit_ranker(
    x: np.ndarray, y: np.ndarray, questions: np.ndarray, weights: np.ndarray
) -> Trees | Logistic:
    """LightGBM's ranking objective over each question's candidate units (rows of a question
    are contiguous in `x`): what matters is which unit comes first."""
    import lightgbm

    if len(set(y.tolist())) < 2 or len(y) < 50:
        return fit_logistic(x, y, UNIT_FEATURES, UNIT_C, weights)
    starts = np.flatnonzero(np.r_[True, questions[1:] != questions[:-1]])
    sizes = np.diff(np.r_[starts, len(y)])
    data = lightgbm.Dataset(x, y, group=sizes, weight=weights, feature_name=list(UNIT_FEATURES))
    return _train(TREE_PARAMS, data, UNIT_FEATURES)


def _train(params: dict, data, names: Sequence[str]) -> Trees:
    """LightGBM trees from `params` (with their "rounds") on `data`, kept as model text."""
    import lightgbm

    settings = dict(params)
    rounds = int(settings.pop("rounds"))
    booster = lightgbm.train(settings, data, num_boost_round=rounds)
    return Trees(names, booster.model_to_string())


def choose_threshold(
    probabilities: np.ndarray,
    right: np.ndarray,
    costs: np.ndarray,
    gains: np.ndarray | None = None,
) -> float:
    """The refusal threshold that maximises (right answers − cost of wrong ones)."""
    if probabilities.size == 0:
        return 0.5
    gains = np.ones(len(right)) if gains is None else gains
    candidates = np.unique(np.concatenate([probabilities, [0.5]]))
    best, best_gain = 0.5, -np.inf
    for t in candidates:
        answered = probabilities >= t
        gain = gains[answered & (right == 1)].sum() - costs[answered & (right == 0)].sum()
        # Ties: the higher threshold (fewer answers that are not sure).
        if gain > best_gain or (gain == best_gain and t > best):
            best, best_gain = float(t), float(gain)
    return best


def fit_model(answerer, cases: Sequence[Case], info: dict | None = None) -> AnswerModel:
    """Fit the unit model, then the answer model and its threshold, on `cases` only."""
    from sklearn.model_selection import GroupKFold

    x, y, q, w = unit_rows(cases)
    units = fit_unit_ranker(x, y, q, w)
    ax, ay, ag, aw, costs, gains = answer_rows(cases, units)
    if ANSWER_WEIGHTED_BY_VOTE:
        aw = gains  # whether to answer is a decision every question file has its say in
    answer = _fit_answer(ax, ay, aw)
    # The threshold is chosen on probabilities the answer model gives to questions it was not
    # fitted on (inner grouped folds), not on its own training rows.
    held_out = np.zeros(len(ay))
    splits = min(INNER_FOLDS, len(set(ag.tolist())))
    if splits >= 2:
        for train, test in GroupKFold(n_splits=splits).split(ax, ay, ag):
            inner = _fit_answer(ax[train], ay[train], aw[train])
            held_out[test] = inner.probability(ax[test])
    else:
        held_out = answer.probability(ax)
    threshold = choose_threshold(held_out, ay, costs, gains)
    spans, span_threshold = fit_spans(cases) if FIT_SPANS else (None, 1.0)
    return AnswerModel(units, answer, threshold, dict(info or {}), spans, span_threshold)


def span_rows(
    cases: Sequence[Case],
) -> tuple[list[np.ndarray], list[np.ndarray], list[int], list[float], list[np.ndarray]]:
    """Per answerable question whose right passage holds its answer as one span: the span
    candidates' features and labels (bot.answer.span), its group and weight, and each
    candidate's token F1 against the answer."""
    rows, labels, groups, weights, f1s = [], [], [], [], []
    for case in cases:
        if not case.answerable or len(case.item.must) != 1:
            continue
        scorer = _scorer(case, None)
        must = case.item.must[0].lower()
        gold = next(
            (
                s
                for s in scorer.score(case.hits[:CHUNKS_READ])
                if s.hit.chunk.doc.file in case.item.sources and must in s.unit.text.lower()
            ),
            None,
        )
        if gold is None:
            continue
        question_word = scorer.question_word
        x, y, f1 = labelled_rows(gold.unit.text, case.question, question_word, case.item.must)
        if not y.any():
            continue
        f1s.append(f1)
        rows.append(x)
        labels.append(y)
        groups.append(case.group)
        weights.append(case.weight)
    return rows, labels, groups, weights, f1s


def fit_span_ranker(
    rows: Sequence[np.ndarray], labels: Sequence[np.ndarray], weights: Sequence[float]
) -> Trees | None:
    """LightGBM's ranking objective over each passage's spans: one right span to put first."""
    import lightgbm

    if len(rows) < SPAN_MIN_QUESTIONS:
        return None
    data = lightgbm.Dataset(
        np.vstack(rows),
        np.concatenate(labels),
        group=[len(y) for y in labels],
        weight=np.concatenate([np.full(len(y), w) for y, w in zip(labels, weights, strict=True)]),
        feature_name=list(SPAN_FEATURES),
    )
    return _train(SPAN_PARAMS, data, SPAN_FEATURES)


def span_outcomes(
    model: Trees, rows: Sequence[np.ndarray], f1s: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the confidence of the model's best span, and its token F1."""
    sure, right = [], []
    for x, f1 in zip(rows, f1s, strict=True):
        confidence = confidences(model, x)
        best = int(np.argmax(confidence))
        sure.append(confidence[best])
        right.append(f1[best])
    return np.array(sure), np.array(right, dtype=float)


def choose_span_threshold(sure: np.ndarray, right: np.ndarray) -> float:
    """The lowest confidence at which the bold spans' mean token F1 is at least SPAN_PRECISION
    (no bold rather than wrong bold); 1.0 (never bold) when none is."""
    order = np.argsort(-sure)
    hits = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    good = np.nonzero(hits >= SPAN_PRECISION)[0]
    # The deepest cut that still holds the precision (a few lucky first rows do not count).
    good = good[good >= SPAN_MIN_BOLD - 1]
    return float(sure[order][good.max()]) if good.size else 1.0


def fit_spans(cases: Sequence[Case]) -> tuple[Trees | None, float]:
    """The span ranker on `cases`, and its bold threshold chosen on half of their documents
    with a ranker fitted on the other half."""
    rows, labels, groups, weights, f1s = span_rows(cases)
    model = fit_span_ranker(rows, labels, weights)
    if model is None:
        return None, 1.0
    half = np.array([g % 2 == 0 for g in groups])
    inner = fit_span_ranker(
        [r for r, h in zip(rows, half, strict=True) if h],
        [y for y, h in zip(labels, half, strict=True) if h],
        [w for w, h in zip(weights, half, strict=True) if h],
    )
    if inner is None:
        return model, 1.0
    held = [i for i, h in enumerate(half) if not h]
    sure, right = span_outcomes(inner, [rows[i] for i in held], [f1s[i] for i in held])
    return model, choose_span_threshold(sure, right)


def _fit_answer(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Scorer:
    if ANSWER_MODEL == "trees":
        return fit_trees(x, y, ANSWER_FEATURES, w, ANSWER_TREE_PARAMS)
    return fit_logistic(x, y, ANSWER_FEATURES, ANSWER_C, w)


def evaluate_with(
    answerer, model: AnswerModel | None, questions: Sequence[EvalQuestion]
) -> EvalReport:
    """The questions through the real answer function, with `model` as its answer step."""
    saved = answerer.answer_model
    answerer.answer_model = model
    try:
        return run_eval(answerer, questions)
    finally:
        answerer.answer_model = saved


def evaluate_cases(answerer, model: AnswerModel | None, cases: Sequence[Case]) -> EvalReport:
    """The questions of `cases` answered from their retrieval (done once, in collect_cases) by
    the answerer's own composition and refusal, with `model` as its answer step."""
    saved = answerer.answer_model
    answerer.answer_model = model
    report = EvalReport()
    try:
        for case in cases:
            if case.near_miss:
                continue
            scorer = _scorer(case, model.units if model is not None else None)
            started = time.perf_counter()
            answer = answerer.compose_answer(case.item.question, case.hits, scorer)
            answer.timings_ms = {"total": (time.perf_counter() - started) * 1000}
            report.results.append(score(case.item, Result(answer, case.hits)))
    finally:
        answerer.answer_model = saved
    return report


def cross_validate(
    answerer,
    questions: Sequence[EvalQuestion],
    folds: int = 5,
    on_fold: Callable[[FoldFigures], None] | None = None,
    cases: Sequence[Case] | None = None,
) -> CrossValidation:
    """Grouped K-fold: each fold is answered by a model fitted without its documents. The fit
    on every question (the in-sample figure's model) is kept as `full`."""
    from sklearn.model_selection import GroupKFold

    cases = list(cases) if cases is not None else collect_cases(answerer, questions)
    groups = np.array(document_groups(questions))
    folds = max(2, min(folds, len(set(groups.tolist()))))
    out = CrossValidation()
    splitter = GroupKFold(n_splits=folds)
    for n, (train, test) in enumerate(splitter.split(np.zeros(len(questions)), groups=groups)):
        train_groups = set(groups[train].tolist())
        model = fit_model(answerer, [c for c in cases if c.group in train_groups])
        report = evaluate_cases(answerer, model, [c for c in cases if c.group not in train_groups])
        figures = FoldFigures(n + 1, len(test), report)
        out.folds.append(figures)
        out.pooled.results.extend(report.results)
        if on_fold is not None:
            on_fold(figures)
    out.full = fit_model(answerer, cases)
    out.in_sample = evaluate_cases(answerer, out.full, cases)
    return out


def fit_info(
    answerer,
    questions: Sequence[EvalQuestion],
    sources: Sequence[str],
    corpora: Sequence[str] = (),
) -> dict:
    """How a model was made: when, from which questions and documents, for which embedding
    model (a site refit reads the question sets and corpora to fit on them again)."""
    return {
        "fitted": date.today().isoformat(),
        "questions": len(questions),
        "question_sets": list(sources),
        "corpora": list(corpora),
        "embedding_model": getattr(answerer.embedder, "model_name", ""),
    }


def fit_all(answerer, questions: Sequence[EvalQuestion], sources: Sequence[str]) -> AnswerModel:
    """The shipped model: fitted on every question, with how it was made."""
    cases = collect_cases(answerer, questions)
    return fit_model(answerer, cases, fit_info(answerer, questions, sources))
