"""A chunk as the answer step reads it: its quotable units (split as ingest split them, see
ingest.units), their terms, and the vectors ingest stored for them. Analysed once per corpus
version and kept in the lexical index's cache."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.norwegian import analyze
from bot.retrieval import CACHE_LIMIT, LexicalIndex
from ingest.store import StoredChunk
from ingest.units import Unit, decode_vectors, heading_lines, search_units, split_units


@dataclass(frozen=True)
class ChunkView:
    """A chunk split into units and analysed once per corpus version."""

    units: list[Unit]
    analysed: list[set[str]]  # per unit: terms of its repaired (search) text
    unit_headings: list[set[str]]  # per unit: terms of its in-chunk heading path
    heading_terms: set[str]
    document_terms: set[str]  # title and dates of the document
    all_terms: set[str]
    relatives: dict[str, frozenset[str]] = field(default_factory=dict)
    repaired: list[str] = field(default_factory=list)  # per unit: its repaired (search) text
    encoded_vectors: str = ""  # the units' vectors as ingest stored them
    sequences: list[list[str]] = field(default_factory=list)  # per unit: its terms in order
    _decoded: dict[int, np.ndarray | None] = field(default_factory=dict)

    @classmethod
    def of(cls, chunk: StoredChunk, index: LexicalIndex) -> ChunkView:
        cached = index.cache.get(chunk.chunk_id)
        if cached is not None:
            return cached
        headings = heading_lines(chunk.heading)
        units = split_units(chunk.text, headings)
        # Match on the repaired words (OCR), quote the faithful ones.
        repaired = search_units(chunk.text, chunk.search_text, headings)
        sequences = [analyze(t) for t in repaired]
        analysed = [set(terms) for terms in sequences]
        doc = chunk.doc
        years = " ".join(str(d.year) for d in (doc.date, doc.updated) if d)
        document_terms = set(analyze(f"{doc.title} {years}"))
        heading_terms = set(analyze(chunk.heading))
        unit_headings = [set(analyze(u.heading)) | heading_terms for u in units]
        all_terms = set().union(*analysed, *unit_headings, heading_terms, document_terms)
        view = cls(
            units,
            analysed,
            unit_headings,
            heading_terms,
            document_terms,
            all_terms,
            {},
            repaired,
            chunk.unit_vectors,
            sequences,
        )
        if len(index.cache) >= CACHE_LIMIT:
            index.cache.clear()  # bounded memory in a long-running bot on a large corpus
        index.cache[chunk.chunk_id] = view
        return view

    def compound_relatives(self, term: str) -> frozenset[str]:
        """This chunk's terms that contain `term` or are contained in it (Norwegian compounds:
        "helsesamarbeid" in "kommunehelsesamarbeid"), five letters or more; memoised."""
        found = self.relatives.get(term)
        if found is None:
            found = frozenset(
                u
                for u in self.all_terms
                if len(term) >= 5 and len(u) >= 5 and u != term and (term in u or u in term)
            )
            self.relatives[term] = found
        return found

    def vectors(self, dims: int) -> np.ndarray | None:
        """The units' vectors (unit length, one row per unit), or None when the store has none
        that fit: a chunk of an older ingest, or one split differently since."""
        if dims not in self._decoded:
            self._decoded[dims] = decode_vectors(self.encoded_vectors, len(self.units), dims)
        return self._decoded[dims]
