"""The one answer function behind Slack, `hfbot ask`, `hfbot chat` and `hfbot eval`."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.answer.compose import Composition, compose, make_citation
from bot.answer.features import (
    CHUNKS_READ,
    MODEL_FEATURES,
    QuestionScorer,
    score_units,
)
from bot.answer.model import AnswerModel, ModelFileError, default_model
from bot.answer.refuse import closest_documents, is_weak, nearest_passage, refusal_text
from bot.followup import Resolved, resolve
from bot.llm import Source, cited_numbers
from bot.norwegian import content_terms, looks_english, words
from bot.retrieval import Hit, LexicalIndex, Retriever
from bot.types import Answer, Turn
from ingest.store import Store, StoredChunk, StoreUnavailable

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from hfbot.settings import Settings

log = logging.getLogger(__name__)

LLM_SOURCES = 5  # chunks given to the LLM, numbered [1]..[5]
MAX_QUESTION_CHARS = 1000  # longer input is cut here: a question, not a document
EMPTY_REPLY = (
    "Skriv et spørsmål om Helsefellesskap Vest-Viken, for eksempel: "
    "«Hvem deltar på partnerskapsmøtet?»"
)
NO_WORDS_REPLY = (
    "Jeg fant ingen ord å søke etter i spørsmålet. Skriv spørsmålet med ord, for eksempel: "
    "«Hvilke kommuner er med i helsefellesskapet?»"
)
EMPTY_CORPUS_REPLY = (
    "Ingen dokumenter er lest inn ennå, så jeg har ingenting å svare ut fra. "
    "Kjør `hfbot ingest` (eller be en administrator om å oppdatere dokumentene)."
)
ENGLISH_LEAD = "From the documents (quoted in Norwegian):"
LONG_NOTE = "(Spørsmålet var svært langt; jeg søkte med de første {n} tegnene.)"


class SiteModelSource(Protocol):
    """The site's own answer model (bot.site_store.SiteModels): refitted with the
    secretariat's labels, shared by every replica through the bot's database."""

    def active_id(self) -> str | None: ...

    def load_model(self, model_id: str) -> AnswerModel | None: ...


@dataclass
class Result:
    """An answer plus what retrieval found (the eval reads the ranks)."""

    answer: Answer
    hits: list[Hit] = field(default_factory=list)
    search_query: str = ""


class Answerer:
    """Questions in, cited answers (or honest abstentions) out."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        embedder: Embeddings | None = None,
        llm: BaseChatModel | None = None,
        *,
        index_refresh_s: float = 5.0,
        answer_model: AnswerModel | None | str = "default",
        site_models: SiteModelSource | None = None,
    ) -> None:
        self.settings = settings
        # The fitted passage and refusal models (bot.answer.model); None: the hand-set rules.
        # "default": the shipped parameters, when they were fitted with the embedding model in
        # use (decided on first use, when the model is known).
        self._answer_model = answer_model
        self._shipped_answer_model = answer_model == "default"
        # A site model, when one is active, replaces the shipped one; checked as often as the
        # store, so a refit (or a restore) on one replica reaches them all.
        self._site_models = site_models
        self._site_model_id: str | None = None
        self._site_checked_at: float | None = None
        # How often the store's corpus version is checked (several processes may share it).
        self.index_refresh_s = index_refresh_s
        self._store = store
        self._embedder = embedder
        # An embedder chosen here (not handed in) follows the store's model: another process
        # may run `hfbot ingest --rebuild` with a new model while this one answers.
        self._follows_store = embedder is None
        self._model_checked_at = time.monotonic()
        self._retriever: Retriever | None = None
        if llm is None and settings.llm:
            from bot.llm import make_llm

            try:
                llm = make_llm(settings)
            except Exception as exc:  # a bad HFBOT_LLM must not take the bot down
                log.error("cannot set up LLM %r (%s); answers stay extractive", settings.llm, exc)
        self.llm = llm

    @classmethod
    def from_settings(cls, settings: Settings) -> Answerer:
        return cls(settings)

    # ---- boundaries, opened on first use ---------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings)
        return self._store

    @property
    def embedder(self) -> Embeddings:
        if self._embedder is None:
            from ingest.embedder import embedder_for_store

            # The store's own model when HFBOT_EMBEDDING_MODEL changed since it was built.
            self._embedder = embedder_for_store(self.settings, self.store)
        return self._embedder

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(
                self.store, self.embedder, refresh_seconds=self.index_refresh_s
            )
        return self._retriever

    def warm_up(self) -> None:
        """Load the embedding model and the lexical index now rather than on the first question."""
        self.retriever.index()
        self.embedder.embed_query("helsefellesskap")

    # ---- answering ---------------------------------------------------------------------------

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        return self.run(question, history).answer

    def run(self, question: str, history: Sequence[Turn] = ()) -> Result:
        """Answer a question (with the conversation so far), keeping the retrieval for the eval."""
        started = time.perf_counter()
        result, asked = self._extractive_result(question, history)
        answer = result.answer
        if self.llm is not None and answer.mode == "extractive" and not answer.abstained:
            from bot.llm import answer_with_llm

            sources = self._llm_sources(result.search_query, result.hits)
            llm_answer = answer_with_llm(self.llm, asked, sources, self.settings)
            if llm_answer is not None:
                llm_answer.timings_ms = answer.timings_ms
                answer = result.answer = llm_answer
        _finish_timings(answer, started)
        return result

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Generator[str, None, Answer]:
        """Growing partial answer text with an LLM; without one, the final extractive text once.

        The generator's return value is the final, checked Answer (what `answer()` would give),
        so a caller that streams need not ask twice.
        """
        started = time.perf_counter()
        result, asked = self._extractive_result(question, history)
        answer = result.answer
        if self.llm is None or answer.mode != "extractive" or answer.abstained:
            yield answer.text
            return answer
        from bot.llm import stream_with_llm

        sources = self._llm_sources(result.search_query, result.hits)
        text = yield from stream_with_llm(
            self.llm, asked, sources, self.settings, fallback=answer.text
        )
        if text is not None:
            cited = cited_numbers(text)
            answer = Answer(
                question=answer.question,
                text=text,
                abstained=False,
                citations=[s.citation for s in sources if s.n in cited],
                timings_ms=answer.timings_ms,
                mode="llm",
            )
        _finish_timings(answer, started)
        return answer

    def _extractive_result(self, question: str, history: Sequence[Turn]) -> tuple[Result, str]:
        """The extractive answer (or a reply to unusable input) and the question as searched."""
        started = time.perf_counter()
        question = question or ""
        message = _reply_to_unusable(question)
        if message is not None:
            answer = Answer(question=question, text=message, abstained=False, mode="message")
            answer.timings_ms = {"retrieve": 0.0, "answer": 0.0, "total": _ms(started)}
            return Result(answer), ""
        asked = question.strip()
        truncated = len(asked) > MAX_QUESTION_CHARS
        if truncated:
            asked = asked[:MAX_QUESTION_CHARS]
        resolved = resolve(asked, history)
        query = resolved.search_text
        self._follow_site_model()

        scorers: list[QuestionScorer] = []

        def prepare(index: LexicalIndex, chunks: list[StoredChunk]) -> None:
            # Score the lexical candidates' passages while the query is being embedded. Only a
            # head start: a failure here shows again (unmasked) in composition below.
            try:
                scorer = QuestionScorer(
                    resolved.question, index, resolved.context, self._unit_model
                )
                scorer.prepare(chunks[:CHUNKS_READ])
            except Exception:
                log.exception("could not prepare answer passages during retrieval")
                return
            scorers.append(scorer)

        hits = self._search(query, prepare)
        scorer = scorers[0] if scorers else None
        retrieved = time.perf_counter()
        answer = self.compose_answer(question, hits, scorer, resolved)
        if truncated:
            answer.text = f"{answer.text}\n\n{LONG_NOTE.format(n=MAX_QUESTION_CHARS)}"
        answer.timings_ms = {
            "retrieve": (retrieved - started) * 1000,
            "answer": _ms(retrieved),
            "total": _ms(started),
        }
        return Result(answer, hits, query), asked

    def compose_answer(
        self,
        question: str,
        hits: list[Hit],
        scorer: QuestionScorer | None = None,
        resolved: Resolved | None = None,
    ) -> Answer:
        """The extractive answer (or refusal) to a question from what retrieval found.

        The fit answers its questions here from hits it retrieved once, with a scorer that
        keeps its measured units, under each model it tries."""
        asked = question.strip()[:MAX_QUESTION_CHARS]
        resolved = resolved or resolve(asked, ())
        index = scorer.index if scorer is not None else self.retriever.index()
        if not index.chunks:
            return Answer(question=question, text=EMPTY_CORPUS_REPLY, abstained=True)
        if scorer is not None:
            scorer.model = self._unit_model
        model = self.answer_model
        composition = compose(
            resolved.question,
            hits,
            index,
            scorer,
            resolved.context,
            self._unit_model,
            model.spans if model is not None else None,
            model.span_threshold if model is not None else 1.0,
        )
        return self._extractive(question, composition, hits, english=looks_english(asked))

    # ---- internals ---------------------------------------------------------------------------

    @property
    def answer_model(self) -> AnswerModel | None:
        if self._answer_model == "default":
            self._answer_model = _shipped_model_for(self.embedder)
        return self._answer_model  # type: ignore[return-value]

    @answer_model.setter
    def answer_model(self, model: AnswerModel | None) -> None:
        self._answer_model = model

    @property
    def _unit_model(self):
        return self.answer_model.units if self.answer_model is not None else None

    def _follow_store_model(self) -> None:
        """Embed questions with the store's model again after it was rebuilt with another."""
        if not self._follows_store or self._embedder is None or self._retriever is None:
            return
        if time.monotonic() - self._model_checked_at < self.index_refresh_s:
            return
        self._model_checked_at = time.monotonic()
        stored = self.store.embedding_model()
        if stored and stored != getattr(self._embedder, "model_name", stored):
            from ingest.embedder import embedder_for_store

            log.warning("the store is now embedded with %s: questions follow", stored)
            self._embedder = embedder_for_store(self.settings, self.store)
            self._retriever.embedder = self._embedder
            if self._shipped_answer_model:
                self._answer_model = "default"  # fitted for one model: choose again
                self._site_model_id = self._site_checked_at = None

    def _follow_site_model(self) -> None:
        """Answer with the site's active model (or the shipped one when none is active)."""
        if self._site_models is None or not self._shipped_answer_model:
            return
        now = time.monotonic()
        if self._site_checked_at is not None and now - self._site_checked_at < self.index_refresh_s:
            return
        self._site_checked_at = now
        try:
            active = self._site_models.active_id()
            if active == self._site_model_id:
                return
            model = self._site_models.load_model(active) if active else None
        except Exception:  # the database is down: keep answering with the model in use
            log.exception("could not check for a new site answer model")
            return
        fitted_with = model.info.get("embedding_model") if model is not None else None
        if fitted_with and fitted_with != getattr(self.embedder, "model_name", fitted_with):
            log.warning("the site answer model was fitted with %s: not used", fitted_with)
            model = None
        if active:
            log.info("answering with the site answer model %s", active if model else "(none)")
        self._site_model_id = active
        self._answer_model = model if model is not None else "default"

    def _search(self, query: str, prepare=None) -> list[Hit]:
        for attempt in range(2):
            try:
                self._follow_store_model()
                return self.retriever.search(
                    query, k=max(self.settings.top_k, 5), while_embedding=prepare
                )
            except StoreUnavailable:
                raise
            except Exception as exc:  # any failure at the Chroma boundary: the store is down
                self._retriever = None  # re-read everything once it is back
                # ...unless another process rebuilt it: then answer from the new collections.
                if attempt == 0 and self._store is not None and self._store.reattach():
                    log.info("the store was rebuilt by another process: reopened it")
                    continue
                raise StoreUnavailable(f"the store failed during search: {exc}") from exc
        raise AssertionError("unreachable")

    def _extractive(
        self, question: str, composition: Composition, hits: list[Hit], *, english: bool
    ) -> Answer:
        if is_weak(composition, self.answer_model):
            closest = closest_documents(hits)
            return Answer(
                question=question,
                text=refusal_text(closest, english=english, nearest=nearest_passage(composition)),
                abstained=True,
                closest=closest,
            )
        # Quotes stay in the documents' Norwegian; an English asker is told so.
        text = f"{ENGLISH_LEAD}\n{composition.text}" if english else composition.text
        return Answer(
            question=question,
            text=text,
            abstained=False,
            citations=composition.citations,
        )

    def _llm_sources(self, query: str, hits: list[Hit]) -> list[Source]:
        """Numbered sources for the LLM: the top chunks, each quoted by its best passage."""
        top = hits[:LLM_SOURCES]
        scored = score_units(query, top, self.retriever.index())
        best_quote: dict[str, str] = {}
        for s in scored:
            best_quote.setdefault(s.hit.chunk.chunk_id, s.unit.text)
        return [
            Source(make_citation(n, hit, best_quote.get(hit.chunk.chunk_id, "")), hit.chunk.text)
            for n, hit in enumerate(top, start=1)
        ]


def _shipped_model_for(embedder: Embeddings) -> AnswerModel | None:
    """The shipped answer model if it was fitted with this embedding model, else None (the
    hand-set rules): its weights read similarities on that model's scale."""
    try:
        model = default_model(**MODEL_FEATURES)
    except ModelFileError as exc:
        log.error("cannot load the fitted answer model (%s); using hand-set rules", exc)
        return None
    fitted_with = model.info.get("embedding_model")
    in_use = getattr(embedder, "model_name", None)
    if fitted_with and fitted_with != in_use:
        log.warning(
            "the answer model was fitted with %s, not %s: using hand-set rules "
            "(run `hfbot fit` to fit it for this model)",
            fitted_with,
            in_use,
        )
        return None
    return model


def _reply_to_unusable(question: str) -> str | None:
    """A helpful reply for input that is not a question we can search for, else None."""
    if not question.strip():
        return EMPTY_REPLY
    if not words(question) or not (content_terms(question) or words(question)):
        return NO_WORDS_REPLY
    return None


def _finish_timings(answer: Answer, started: float) -> None:
    """Total time, and answer time including any LLM call after retrieval."""
    total = _ms(started)
    answer.timings_ms["total"] = total
    answer.timings_ms["answer"] = max(0.0, total - answer.timings_ms.get("retrieve", 0.0))


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
