"""Refit the answer step with the site's labels, behind a guard, and keep the one before.

The new model replaces the one in use for this site only when its grouped cross-validation is
no worse on any reference question set (the shipped ones, as recorded in the model file) and
better on the site's own labels than the model answering now. The fitter sits behind the small
`Fitter` interface, so the guard is tested with a stub and the answer step can change beneath
it; `CorpusFitter` is the one place that calls bot.answer.fit.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.site_labels import SITE_SET_NAME, MissingPassage, describe_missing, usable_labels
from bot.site_store import LabelStore, SiteModels, model_from_row
from hfbot.settings import REPO_ROOT

if TYPE_CHECKING:
    from bot.answer.evaluate import EvalQuestion
    from bot.answer.model import AnswerModel
    from bot.answering import Answerer
    from hfbot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_FOLDS = 5


class Fitter(Protocol):
    """What the guard needs from the answer step's fit, over one store."""

    def cross_validate(self, questions: Sequence[EvalQuestion]) -> dict[str, int]:
        """Held-out questions passed per question set (grouped by document)."""
        ...

    def evaluate(self, model: AnswerModel | None, questions: Sequence[EvalQuestion]) -> int:
        """Questions passed when `model` answers."""
        ...

    def fit(self, questions: Sequence[EvalQuestion]) -> AnswerModel:
        """A model fitted on every question."""
        ...


@dataclass
class Decision:
    taken: bool
    reason: str = ""  # why it was refused ("" when taken)
    site_before: int = 0
    site_after: int = 0
    site_total: int = 0
    reference_before: dict[str, int] = field(default_factory=dict)
    reference_after: dict[str, int] = field(default_factory=dict)
    reference_total: dict[str, int] = field(default_factory=dict)
    model: AnswerModel | None = None
    missing: list[MissingPassage] = field(default_factory=list)
    tried: bool = True  # False: it could not start (nothing was fitted, nothing recorded)

    def summary(self) -> str:
        """One line for the Home tab and the terminal (Norwegian, as the secretariat reads it)."""
        if self.site_total == 0 and not self.reference_before:
            return f"Ikke tatt i bruk: {self.reason}"
        figures = (
            f"{self.site_before} → {self.site_after} av {self.site_total} merkede spørsmål "
            f"riktig; {self.reference_text()}"
        )
        out = figures if self.taken else f"Ikke tatt i bruk: {self.reason} ({figures})"
        if self.missing:
            out += f"; {len(self.missing)} merkede utdrag finnes ikke lenger og ble ikke brukt"
        return out

    def reference_text(self) -> str:
        if self.reference_before == self.reference_after:
            return "referansesettene uendret"
        parts = [
            f"{name} {self.reference_before.get(name, 0)} → {self.reference_after.get(name, 0)}"
            f" av {self.reference_total.get(name, 0)}"
            for name in self.reference_before
        ]
        return "referansesettene: " + ", ".join(parts)


def refit_with_guard(
    reference: Sequence[EvalQuestion],
    site: Sequence[EvalQuestion],
    fitter: Fitter,
    current: AnswerModel | None,
) -> Decision:
    """Fit on reference + site questions; take the model only when the guard lets it through.

    Before: the reference sets cross-validated as the model in use was fitted (reference only),
    and the site's labels answered by the model in use (it never saw them). After: both cross-
    validated with the site's labels in the fit; the labels are judged only in folds that did
    not see their documents, so "better" means better on unseen questions.
    """
    totals: dict[str, int] = {}
    for item in reference:
        totals[item.set_name] = totals.get(item.set_name, 0) + 1
    decision = Decision(taken=False, site_total=len(site), reference_total=totals)
    if not reference:
        decision.reason = "ingen referansesett å sammenligne med"
        return decision
    if not site:
        decision.reason = "ingen merkede spørsmål å lære av"
        return decision
    decision.reference_before = {n: fitter.cross_validate(reference).get(n, 0) for n in totals}
    decision.site_before = fitter.evaluate(current, site)
    after = fitter.cross_validate([*reference, *site])
    decision.reference_after = {n: after.get(n, 0) for n in totals}
    decision.site_after = after.get(SITE_SET_NAME, 0)
    worse = [n for n in totals if decision.reference_after[n] < decision.reference_before[n]]
    if worse:
        decision.reason = "referansesettene ble dårligere"
        return decision
    if decision.site_after <= decision.site_before:
        decision.reason = "de merkede spørsmålene ble ikke besvart bedre"
        return decision
    decision.model = fitter.fit([*reference, *site])
    decision.taken = True
    return decision


# ---- the real fitter, over a store that holds every question's documents ------------------------


class CorpusFitter:
    """bot.answer.fit over one Answerer's store (the coupling to the fit lives here only)."""

    def __init__(self, answerer, folds: int = DEFAULT_FOLDS, sources: Sequence[str] = ()) -> None:  # type: ignore[no-untyped-def]
        self.answerer = answerer
        self.folds = folds
        self.sources = list(sources)

    def cross_validate(self, questions: Sequence[EvalQuestion]) -> dict[str, int]:
        from bot.answer.fit import cross_validate

        cv = cross_validate(self.answerer, questions, self.folds)
        return {name: s["passed"] for name, s in cv.pooled.summaries().items()}

    def evaluate(self, model: AnswerModel | None, questions: Sequence[EvalQuestion]) -> int:
        from bot.answer.fit import evaluate_with

        return int(evaluate_with(self.answerer, model, questions).summary()["passed"])

    def fit(self, questions: Sequence[EvalQuestion]) -> AnswerModel:
        from bot.answer.fit import fit_all

        return fit_all(self.answerer, questions, self.sources)


# ---- where the reference sets and their documents are ----------------------------------------


class RefitSetupError(Exception):
    """Something a refit needs is not on this machine (said in Norwegian: an admin reads it)."""


def shipped_info() -> dict:
    """How the shipped model was fitted (its `info`), read even when its features are stale."""
    from bot.answer.model import MODEL_FILE

    try:
        info = json.loads(MODEL_FILE.read_text(encoding="utf-8")).get("info")
    except (OSError, ValueError, AttributeError):
        return {}
    return dict(info) if isinstance(info, dict) else {}


def reference_paths(info: dict) -> list[str]:
    """The question sets the shipped model was fitted on (`sources`, else `question_sets`)."""
    listed = info.get("sources") or info.get("question_sets") or []
    return [str(p) for p in listed if isinstance(p, str)]


def recorded_corpora(info: dict) -> list[str]:
    """The --corpus folders the shipped model was fitted over, as `hfbot fit` recorded them."""
    return [str(p) for p in info.get("corpora") or [] if isinstance(p, str)]


def resolve_path(path: str, *, recorded: bool = False, folder: bool = False) -> Path | None:
    """A question set or corpus folder on this machine, or None.

    The model file records paths as `hfbot fit` was given them from the repository's root
    ("corpus", "../shared/eval/dev-corpus-2"), so a recorded path is looked for from the root
    first and then from the current folder; a path typed on the command line the other way.
    """
    given = Path(path).expanduser()
    if given.is_absolute():
        candidates = [given]
    else:
        here, root = Path.cwd() / given, REPO_ROOT / given
        candidates = [root, here] if recorded else [here, root]
    for candidate in candidates:
        if candidate.is_dir() if folder else candidate.is_file():
            return candidate.resolve()
    return None


def as_recorded(path: Path) -> str:
    """How a folder is written into a model's info: from the repository's root when inside it."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix() or "."
    except ValueError:
        return str(path)


def _not_found(paths: Sequence[str], recorded: bool) -> str:
    where = f"søkt fra {REPO_ROOT} og {Path.cwd()}" if recorded else f"søkt fra {Path.cwd()}"
    return f"{', '.join(paths)} ({where})"


def load_reference(
    paths: Sequence[str], *, recorded: bool = False
) -> tuple[list[EvalQuestion], list[str]]:
    """The reference questions, and the files that could not be found."""
    from bot.answer.evaluate import load_question_sets

    found = [(p, resolve_path(p, recorded=recorded)) for p in paths]
    missing = [p for p, resolved in found if resolved is None]
    present = [resolved for _, resolved in found if resolved is not None]
    return (load_question_sets(present) if present else []), missing


def corpus_folders(settings: Settings, corpora: Sequence[str], info: dict) -> list[Path]:
    """The folders to read: the reference sets' (given, else recorded in the model file) and the
    site's own corpus, where its labels' documents are. RefitSetupError names any not found."""
    recorded = not corpora
    listed = list(corpora) or recorded_corpora(info)
    found = [(p, resolve_path(p, recorded=recorded, folder=True)) for p in listed]
    missing = [p for p, resolved in found if resolved is None]
    if missing:
        how = (
            "oppgi dem med `hfbot fit --with-site-labels --corpus MAPPE …`"
            if recorded
            else "sjekk --corpus"
        )
        raise RefitSetupError(
            "dokumentmappene referansesettene ble tilpasset på finnes ikke på denne maskinen: "
            f"{_not_found(missing, recorded)}; {how}"
        )
    site = Path(settings.corpus_dir).expanduser()
    if not site.is_dir():
        raise RefitSetupError(f"dokumentmappen (HFBOT_CORPUS_DIR) finnes ikke: {site}")
    folders = [resolved for _, resolved in found if resolved is not None]
    return list(dict.fromkeys([*folders, site.resolve()]))


# ---- one refit, from the terminal or from Slack -----------------------------------------------

MakeFitter = Callable[["Answerer", int, Sequence[str]], Fitter]


def run_site_refit(
    settings: Settings,
    *,
    questions: Sequence[str] = (),
    corpora: Sequence[str] = (),
    created_by: str = "",
    folds: int = DEFAULT_FOLDS,
    progress: Callable[[str], None] = lambda _: None,
    make_fitter: MakeFitter | None = None,
) -> Decision:
    """Refit with the site's labels over the reference sets' documents and the site's corpus,
    record the attempt (taken or refused) in the bot's database, and say what happened.

    A refit that cannot start (a question set or folder missing on this machine, the reference
    documents not in the folders) is refused and not recorded: the labels stay new, so
    "Tilpass svarmodellen" is still offered once the folders are in place. `make_fitter`
    (answerer, folds, question-set names) → Fitter; CorpusFitter unless a test gives a stub.
    """
    from bot.answer.eval_store import open_eval_store

    info = shipped_info()
    recorded = not questions
    paths = list(questions) or reference_paths(info)
    reference, missing_files = load_reference(paths, recorded=recorded)
    if missing_files:
        return _not_tried(
            f"referansesettene finnes ikke på denne maskinen: {_not_found(missing_files, recorded)}"
        )
    try:
        folders = corpus_folders(settings, corpora, info)
    except RefitSetupError as exc:
        return _not_tried(str(exc))
    labels_store, models = LabelStore.from_settings(settings), SiteModels.from_settings(settings)
    try:
        labels = labels_store.all()
        labels_at = max((label.created_at for label in labels), default=0.0)
        progress(f"Leser inn dokumentene ({', '.join(as_recorded(f) for f in folders)}) …")
        with open_eval_store(settings, folders) as opened:
            answerer = opened.answerer(answer_model=None)
            chunks = answerer.retriever.index().chunks
            absent = _absent_sources(reference, chunks)
            if absent:
                return _not_tried(
                    "referansesettenes dokumenter finnes ikke i dokumentmappene ("
                    + ", ".join(absent[:5])
                    + (" …" if len(absent) > 5 else "")
                    + "): oppgi mappene de ligger i med `hfbot fit --with-site-labels "
                    "--corpus MAPPE …`"
                )
            usable, missing = usable_labels(labels, chunks)
            for item in missing:
                progress(f"Utdraget finnes ikke lenger: {describe_missing(item)}")
            current = _answering_now(models, answerer)
            progress(f"Tilpasser med {len(usable)} merkede spørsmål …")
            sources = [*paths, "site labels"]
            fitter = (make_fitter or CorpusFitter)(answerer, folds, sources)
            site = [label.as_question() for label in usable]
            decision = refit_with_guard(reference, site, fitter, current)
            decision.missing = missing
        model_json = None
        if decision.taken and decision.model is not None:
            decision.model.info.update(
                {
                    "fitted": date.today().isoformat(),
                    "site_labels": decision.site_total,
                    "question_sets": paths,
                    "corpora": [as_recorded(f) for f in folders],
                    "guard": {
                        "site": [decision.site_before, decision.site_after, decision.site_total],
                        "reference_before": decision.reference_before,
                        "reference_after": decision.reference_after,
                    },
                }
            )
            model_json = decision.model.to_json()
        models.record(
            taken=decision.taken,
            summary=decision.summary(),
            labels=len(labels),
            labels_at=labels_at or time.time(),
            created_by=created_by,
            model=model_json,
            embedding_model=(
                decision.model.info.get("embedding_model") if decision.model else None
            ),
        )
        return decision
    finally:
        labels_store.close()
        models.close()


def _not_tried(reason: str) -> Decision:
    log.warning("refit with site labels not tried: %s", reason)
    return Decision(taken=False, reason=reason, tried=False)


def restore_previous(settings: Settings) -> str:
    """Put the model before the current site model back; the message says which answers now."""
    models = SiteModels.from_settings(settings)
    try:
        if models.active() is None:
            return "Ingen tilpasset svarmodell er i bruk: modellen som fulgte med hfbot svarer."
        restored = models.restore_previous()
    finally:
        models.close()
    if restored is None:
        return "Gjenopprettet: modellen som fulgte med hfbot svarer igjen."
    when = time.strftime("%d.%m.%Y %H:%M", time.localtime(restored.created_at))
    return f"Gjenopprettet den tilpassede modellen fra {when} ({restored.summary})."


def _answering_now(models: SiteModels, answerer: Answerer) -> AnswerModel | None:
    """The model answering on this site now, chosen as the Answerer chooses it: the active site
    model, else the shipped one, and neither when fitted for another embedding model (the
    hand-set rules answer then, and the guard's "before" must be theirs)."""
    current = model_from_row(models.active()) or _shipped()
    fitted_with = current.info.get("embedding_model") if current is not None else None
    if fitted_with and fitted_with != getattr(answerer.embedder, "model_name", fitted_with):
        return None
    return current


def _shipped() -> AnswerModel | None:
    from bot.answer.features import MODEL_FEATURES
    from bot.answer.model import ModelFileError, default_model

    try:
        return default_model(**MODEL_FEATURES)
    except ModelFileError:
        return None


def _absent_sources(reference: Sequence[EvalQuestion], chunks) -> list[str]:  # type: ignore[no-untyped-def]
    held = {chunk.doc.file for chunk in chunks}
    return sorted({s for item in reference for s in item.sources if s not in held})
