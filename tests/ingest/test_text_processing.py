"""Cleaning, OCR repair, chunking and metadata from text: the rules a reader notices."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hfbot.settings import BUNDLED_CORPUS
from ingest.chunking import chunk_document
from ingest.clean import clean_pages, clean_text
from ingest.loaders import Page, load
from ingest.manifest import ManifestError, build_meta, dates_from_text, read_manifest
from ingest.ocr_repair import looks_damaged, repair_text
from tests.fakes import FakeEmbedder

OCR_FILE = BUNDLED_CORPUS / "004_222ede703e19ef52.txt"


def _clean(name: str) -> str:
    return clean_pages(load(BUNDLED_CORPUS / name).pages).text


def test_unicode_and_whitespace_are_normalised() -> None:
    decomposed = "Mo\u0308te i Ba\u030arum\u00a0kommune  \t med\u200b  fastleger   \r\n"
    assert clean_text(decomposed) == "Möte i Bårum kommune med fastleger"


def test_bullet_glyphs_become_dashes_and_nesting_is_kept() -> None:
    text = "Mål:\n• Bedre tjenester\n  ◦ for barn\n▪ Færre reinnleggelser\n"
    assert clean_text(text) == "Mål:\n- Bedre tjenester\n  - for barn\n- Færre reinnleggelser"


def test_lines_broken_mid_sentence_are_joined_but_lists_are_not() -> None:
    text = "Årlig møte for å\nforankre retning\n\n- 26 kommuner\n- 445 000 innbyggere"
    assert (
        clean_text(text)
        == "Årlig møte for å forankre retning\n\n- 26 kommuner\n- 445 000 innbyggere"
    )


def test_web_navigation_at_the_top_is_dropped() -> None:
    text = _clean("001_b62b5ad0e7f9da97.txt")
    assert text.startswith("Sammen om helhetlige helsetjenester\n")
    assert "Submeny" not in text and "15 kommuner vest for Oslo" not in text


def test_repeated_organisation_chart_is_kept_once() -> None:
    text = _clean("002_8cd09686609c0757.txt")
    assert text.count("Politisk og administrativ toppledelse i kommuner og helseforetak") == 1
    assert text.count("# Organisering på tre nivå") == 1
    # Short lines that legitimately recur are not "repeats".
    assert text.count("Deltagere:") >= 3


def test_ocr_damaged_document_is_detected_and_only_that_one() -> None:
    assert looks_damaged(_clean(OCR_FILE.name))
    for name in ("000_83f573777f471351.txt", "002_8cd09686609c0757.txt"):
        assert not looks_damaged(_clean(name))
    english = "The partnership meeting is held every year and the members discuss a plan. " * 5
    assert not looks_damaged(english)
    nynorsk = (
        "Helsefellesskapet skal gjere det enklare for pasientane. Eg trur at kommunane og "
        "sjukehuset må samarbeide betre, og vi må sjå på korleis vi kan gi dei beste tenestene. "
        "Ein av dei viktigaste oppgåvene er å sikre gode overgangar. Folk som bur langt frå "
        "sjukehuset skal ikkje få dårlegare tilbod, og ho som er pasient skal vere med. "
    )
    assert not looks_damaged(nynorsk * 3)


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("gjennomfert 6 mgter", "gjennomført 6 møter"),
        ("Arsrapport for SSU", "Årsrapport for SSU"),
        ("SSU gnsker bred involvering", "SSU ønsker bred involvering"),
        ("Helse Sgr-Jst", "Helse Sør-Øst"),
        ("mer baerekraftig", "mer bærekraftig"),
        ("for & utarbeide en plan", "for å utarbeide en plan"),
        ("Mgteplan for 2025", "Møteplan for 2025"),
    ],
)
def test_ocr_repair_finds_the_undamaged_word(damaged: str, repaired: str) -> None:
    assert repair_text(damaged) == repaired


def test_ocr_repair_leaves_sound_words_alone() -> None:
    sound = "Vestre Viken og kommunene har fokus på barn som pårørende for 2025."
    assert repair_text(sound) == sound


def test_chunks_are_exact_spans_with_headings_and_fit_the_model() -> None:
    embedder = FakeEmbedder(max_tokens=64)
    doc = clean_pages(load(BUNDLED_CORPUS / "000_83f573777f471351.txt").pages)

    chunks = chunk_document(doc, "d", "h" * 64, embedder.count_tokens, max_tokens=64)

    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    assert all(embedder.count_tokens(c.indexed_text) <= 64 for c in chunks)
    staff = next(c for c in chunks if "9400 ansatte" in c.text)
    assert staff.heading == "Vestre Viken HF"
    assert staff.text.startswith("Vestre Viken HF\n\n- 26 kommuner")
    # A bullet keeps its sub-bullets in the same chunk.
    members = next(c for c in chunks if "6 rådmenn" in c.text)
    assert "- Sammensetning:\n - 6 rådmenn" in members.text
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_a_long_paragraph_is_split_at_sentences_within_the_limit() -> None:
    embedder = FakeEmbedder()
    sentences = [f"Setning nummer {n} handler om samhandling i regionen." for n in range(120)]
    doc = clean_pages([Page("Overskrift\n\n" + " ".join(sentences))])

    chunks = chunk_document(doc, "d", "h" * 64, embedder.count_tokens, max_tokens=256)

    assert len(chunks) > 2
    assert all(c.text.endswith(".") for c in chunks)
    assert all(embedder.count_tokens(c.indexed_text) <= 256 for c in chunks)
    assert chunks[0].text.startswith("Overskrift")
    assert all(c.heading == "Overskrift" for c in chunks)
    assert "Overskrift" in chunks[1].search_text  # the embedding still sees the heading


def test_dates_from_text() -> None:
    text = "Nyhet\n\nPublisert 07.02.2022\nSist oppdatert 11.01.2024\n\nTekst."
    assert dates_from_text(text) == (date(2022, 2, 7), date(2024, 1, 11))
    assert dates_from_text("Referat fra møtet 14. juni 2018\n\nTekst.") == (
        date(2018, 6, 14),
        None,
    )


def test_manifest_wins_and_missing_fields_come_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.yaml").write_text(
        "- file: a.txt\n  title: Fra manifestet\n  kind: report\n", encoding="utf-8"
    )
    entries = read_manifest(tmp_path)
    path = tmp_path / "a.txt"
    path.write_text("Tittel i teksten\n\nPublisert 12.06.2024\n", encoding="utf-8")

    meta = build_meta("a.txt", path, entries["a.txt"], path.read_text(encoding="utf-8"))

    assert (meta.title, meta.kind, meta.date) == ("Fra manifestet", "report", date(2024, 6, 12))
    assert meta.date_approximate


def test_title_from_text_joins_a_title_broken_over_two_lines(tmp_path: Path) -> None:
    path = tmp_path / "rapport.txt"
    path.write_text("x", encoding="utf-8")
    text = _clean(OCR_FILE.name)

    meta = build_meta("rapport.txt", path, None, text)

    assert (
        meta.title == "Arsrapport for Strategisk samarbeidsutvalg i Helsefellesskap Vest-Viken 2024"
    )
    assert meta.date == date(2024, 1, 1) and meta.date_approximate  # the year in its title


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("file: a.txt\n", "list of entries"),
        ("- title: uten fil\n", "no 'file'"),
        ("- file: a.txt\n  dato: 2024-01-01\n", "unknown field"),
        ("- file: a.txt\n  date: 31.12.2024\n", "YYYY-MM-DD"),
        ("- file: a.txt\n- file: a.txt\n", "listed twice"),
    ],
)
def test_manifest_errors_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "MANIFEST.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        read_manifest(tmp_path)


# ---- where a date comes from -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "file_date", "expected"),
    [
        ("Nyhet\n\nPublisert 12.06.2024\n\nTekst.", date(2025, 3, 1), (date(2024, 6, 12), "text")),
        ("Årsrapport 2021\n\nTekst.", date(2025, 3, 1), (date(2021, 1, 1), "text-year")),
        # The last year it speaks of (2035 is a plan, not a date), over the file's own date.
        (
            "Om samarbeidet\nKort om oss\nKontakt\n\n"
            "Avtalen fra 2012 ble fornyet i 2019 (plan: 2035).",
            date(2025, 3, 1),
            (date(2019, 1, 1), "text-year"),
        ),
        ("Om samarbeidet\n\nIngen årstall her.", date(2025, 3, 1), (date(2025, 3, 1), "file")),
        ("Om samarbeidet\n\nIngen årstall her.", None, (None, "")),  # udatert
    ],
)
def test_a_documents_date_comes_from_the_strongest_evidence(
    tmp_path: Path, text: str, file_date: date | None, expected: tuple
) -> None:
    path = tmp_path / "doc.txt"
    path.write_text(text, encoding="utf-8")  # its mtime (today) is never the date

    meta = build_meta("doc.txt", path, None, text, file_date)

    assert (meta.date, meta.date_source) == expected
    assert meta.date_approximate


def test_a_manifest_date_is_recorded_as_such(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.yaml").write_text(
        "- file: a.txt\n  title: Referat\n  date: 2019-05-02\n", encoding="utf-8"
    )
    path = tmp_path / "a.txt"
    path.write_text("Referat\n\nPublisert 12.06.2024\n", encoding="utf-8")

    meta = build_meta("a.txt", path, read_manifest(tmp_path)["a.txt"], None, date(2025, 1, 1))

    assert (meta.date, meta.date_source, meta.date_approximate) == (
        date(2019, 5, 2),
        "manifest",
        False,
    )
