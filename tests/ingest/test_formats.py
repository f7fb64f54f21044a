"""PDF, DOCX, HTML and Markdown go in with their structure: pages, headings, main text only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from ingest.pipeline import IngestReport
from ingest.store import Store
from tests.ingest.conftest import make_docx, make_pdf


def _chunks(store: Store, doc_id: str) -> list:
    return [c for c in store.live_chunks() if c.doc.doc_id == doc_id]


def test_pdf_chunks_carry_their_page_numbers(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(
        folder / "referat.pdf",
        [
            "Referat fra SSU\n\nSSU møttes i Drammen og drøftet samhandlingsplanen.",
            "Sak 2: Økonomi\n\nKommunene og helseforetaket utveksler økonomisk informasjon.",
            "Sak 3: Møteplan\n\nNeste partnerskapsmøte holdes 6. juni 2025 på Union scene.",
        ],
    )

    report = ingest(folder)

    assert report.failed == [] and report.added == 1
    meta = store.documents()["referat.pdf"].meta
    # The year its text speaks of, not the PDF's creation date (today: the file, not the text).
    assert (meta.date, meta.date_source) == (date(2025, 1, 1), "text-year")
    assert meta.date_approximate
    by_text = {c.text: c.page for c in _chunks(store, "referat.pdf")}
    pages = {page for text, page in by_text.items() if "Union scene" in text}
    assert pages == {3}
    assert any(page == 1 and "Drammen" in text for text, page in by_text.items())


def test_pdf_running_header_is_dropped(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    pages = [
        f"Helsefellesskap Vest-Viken - internt\n\nAvsnitt {n}: tema nummer {n} om samhandling.\n\n"
        f"Side {n} av 4"
        for n in range(1, 5)
    ]
    make_pdf(folder / "notat.pdf", pages)

    ingest(folder)

    text = "\n".join(c.text for c in _chunks(store, "notat.pdf"))
    assert "internt" not in text and "Side 2 av 4" not in text
    assert "Avsnitt 3: tema nummer 3 om samhandling." in text


def test_docx_headings_become_the_chunk_heading(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    make_docx(
        folder / "plan.docx",
        [
            ("h1", "Handlingsplan 2025"),
            ("p", "Planen beskriver hva helsefellesskapet skal gjøre i 2025. " * 20),
            ("h2", "Prioriterte grupper"),
            ("bullet", "Barn og unge"),
            ("bullet", "Skrøpelige eldre"),
        ],
        table=[("Kommune", "Innbyggere"), ("Gol", "4 600"), ("Hemsedal", "2 500")],
    )

    report = ingest(folder)

    assert report.failed == []
    chunks = _chunks(store, "plan.docx")
    listed = [c for c in chunks if "Skrøpelige eldre" in c.text]
    assert listed[0].heading == "Handlingsplan 2025 > Prioriterte grupper"
    assert "- Barn og unge\n- Skrøpelige eldre" in listed[0].text
    assert store.documents()["plan.docx"].meta.title == "Handlingsplan 2025"
    assert any("- Hemsedal | 2 500" in c.text for c in chunks)  # table rows are kept


def test_html_keeps_main_text_and_drops_navigation(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    nav = "".join(f"<li><a href='/m{n}'>Menypunkt {n}</a></li>" for n in range(12))
    body = " ".join(
        f"Avsnitt {n}: Kommunene og sykehuset samarbeider om pasientforløp og overganger."
        for n in range(6)
    )
    (folder / "side.html").write_text(
        "<html><head><title>Om helsefellesskapet</title>"
        '<meta property="article:published_time" content="2023-03-14T10:00:00+01:00">'
        "</head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header>"
        f"<main><article><h1>Om helsefellesskapet</h1><p>{body}</p>"
        "<h2>Møteplan</h2><p>Partnerskapsmøtet holdes årlig i juni, og alle kommunene deltar.</p>"
        "</article></main>"
        "<footer>Personvern | Informasjonskapsler | Kontakt oss</footer></body></html>",
        encoding="utf-8",
    )

    report = ingest(folder)

    assert report.failed == []
    text = "\n".join(c.text for c in _chunks(store, "side.html"))
    assert "Partnerskapsmøtet holdes årlig i juni" in text
    assert "Menypunkt" not in text and "Informasjonskapsler" not in text
    meta = store.documents()["side.html"].meta
    assert (meta.title, meta.date) == ("Om helsefellesskapet", date(2023, 3, 14))


def test_markdown_bullets_stay_with_their_heading(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notat.md").write_text(
        "---\ntitle: front matter\n---\n# Notat\n\nInnledning om samarbeidet.\n\n"
        "## Deltagere\n\n* 1 brukerrepresentant\n* 1 fastlege\n* 3 medlemmer fra kommunene\n",
        encoding="utf-8",
    )

    ingest(folder)

    chunk = next(c for c in _chunks(store, "notat.md") if "fastlege" in c.text)
    # A small section is packed with its parent: the list still sits under its heading line.
    assert "## Deltagere\n\n- 1 brukerrepresentant\n- 1 fastlege\n- 3 medlemmer" in chunk.text
    assert chunk.heading == "Notat"
    assert "front matter" not in chunk.text
