"""Fixtures for the ingest tests: document files made on the spot, and one-call ingests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from hfbot.settings import Settings, load_settings
from ingest.pipeline import IngestReport, run_ingest
from ingest.store import STRAY_MARGIN, Store, StoredChunk
from tests.fakes import FakeEmbedder


def make_pdf(path: Path, pages: Sequence[str], password: str | None = None) -> Path:
    """A PDF with a real text layer, one string per page (Latin-1 text: æøå are fine)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    if password is None:
        pdf.output(str(path))
        return path
    from pypdf import PdfReader, PdfWriter

    plain = path.with_suffix(".plain.pdf")
    pdf.output(str(plain))
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=password, algorithm="AES-128")
    writer.write(path)
    plain.unlink()
    return path


def make_docx(
    path: Path, parts: Sequence[tuple[str, str]], table: Sequence[Sequence[str]] = ()
) -> Path:
    """A DOCX from (style, text) pairs (style 'h1', 'h2', 'bullet' or 'p'), then a table."""
    import docx

    document = docx.Document()
    for style, text in parts:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        elif style == "bullet":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings) as opened:
        yield opened


@pytest.fixture
def ingest(settings: Settings, fake_embedder: FakeEmbedder) -> Callable[..., IngestReport]:
    """Run an ingest of a folder with the fake embedder (and a fresh store handle)."""

    def run(folder: Path | None = None, **kwargs: object) -> IngestReport:
        kwargs.setdefault("embedder", fake_embedder)
        return run_ingest(settings, [folder] if folder else None, **kwargs)  # type: ignore[arg-type]

    return run


@pytest.fixture
def server_settings(
    chroma_server: tuple[str, int], isolated_env: Path, request: pytest.FixtureRequest
) -> Settings:
    """Settings pointing at the shared Chroma server, with a collection of this test's own."""
    host, port = chroma_server
    name = "t" + str(abs(hash(request.node.nodeid)) % 10**10)
    return load_settings(CHROMA_HOST=host, CHROMA_PORT=port, HFBOT_COLLECTION=name)


def nearest_live(store: Store, embedding: Sequence[float], k: int) -> list[StoredChunk]:
    """The k nearest live chunks, best first, as the read path finds them: `Store.nearest`
    ids mapped onto the live chunks (anything else the store holds is never an answer)."""
    live = {c.chunk_id: c for c in store.live_chunks()}
    found = [cid for cid, _ in store.nearest(embedding, k + STRAY_MARGIN) if cid in live]
    return [live[cid] for cid in found[:k]]


def live_texts(store: Store) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for chunk in store.live_chunks():
        out.setdefault(chunk.doc.doc_id, []).append(chunk.text)
    return out
