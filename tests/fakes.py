"""Deterministic stand-ins for the external boundaries, so unit tests never load a real model."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from langchain_core.embeddings import Embeddings

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder(Embeddings):
    """Hashed bag-of-words vectors: texts sharing words are close, which is all tests need."""

    def __init__(self, dimension: int = 256, max_tokens: int = 256) -> None:
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.model_name = "fake"
        self.calls = 0  # how many texts were embedded, to assert "not re-embedded"

    def count_tokens(self, text: str) -> int:
        # Roughly what a word-piece tokenizer gives for Norwegian: a bit over one per word.
        return int(len(_WORD.findall(text)) * 1.4) + 2

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dimension
        for word in _WORD.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
            vec[h % self.dimension] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(
        self, texts: Sequence[str], show_progress: bool = False
    ) -> list[list[float]]:
        self.calls += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)
