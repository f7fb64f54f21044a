"""Dates a reader can trust: a date only the file gives never wins 'the newest document', and a
citation says when its date is approximate or unknown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.retrieval import LexicalIndex
from hfbot.cli import cli
from ingest.models import DocumentMeta
from ingest.store import StoredDocument

pytestmark = pytest.mark.usefixtures("use_fake_embedder")

MANIFEST = """\
- file: eldre.md
  title: Om helsefellesskapet
  date: 2019-05-02
"""
OLDER_STATED = "Om helsefellesskapet\n\nHelsefellesskapet har 21 kommuner.\n"
# No date, no year: after a fresh clone its modification time would be today.
UNDATED = "Kort om samarbeidet\n\nHelsefellesskapet har 24 kommuner, og fastlegene er med.\n"
# Dated by its own meta tags only: the file's date, not one the text states.
FILE_DATED = """<html><head><title>Nytt om fagrådet</title>
<meta name="date" content="2025-05-01"></head>
<body><article><h1>Nytt om fagrådet</h1>
<p>Helsefellesskapet har 26 kommuner, skriver fagrådet.</p>
<p>Fagrådet for rus og psykisk helse møtes i Drammen hver måned.</p>
</article></body></html>
"""


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "MANIFEST.yaml").write_text(MANIFEST, encoding="utf-8")
    (folder / "eldre.md").write_text(OLDER_STATED, encoding="utf-8")
    (folder / "udatert.md").write_text(UNDATED, encoding="utf-8")
    (folder / "fagrad.html").write_text(FILE_DATED, encoding="utf-8")
    monkeypatch.setenv("HFBOT_CORPUS_DIR", str(folder))
    return folder


def _ask(question: str) -> str:
    result = CliRunner().invoke(cli, ["ask", question], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_newest_wins_picks_the_stated_date_over_an_undated_or_file_dated_document(
    corpus: Path,
) -> None:
    output = _ask("Hvor mange kommuner har helsefellesskapet nå?")

    assert "21 kommuner" in output
    assert "24 kommuner" not in output and "26 kommuner" not in output
    assert "[1] Om helsefellesskapet (2019-05-02)" in output  # a manifest date is exact


def test_a_citation_says_when_its_date_is_approximate_or_unknown(corpus: Path) -> None:
    file_dated = _ask("Hvor ofte møtes fagrådet for rus og psykisk helse?")
    undated = _ask("Er fastlegene med i samarbeidet?")

    assert "Nytt om fagrådet (2025-05-01, omtrentlig)" in file_dated
    assert "Kort om samarbeidet (udatert)" in undated


def _doc(doc_id: str, when: date | None, source: str) -> StoredDocument:
    meta = DocumentMeta(doc_id=doc_id, file=doc_id, title=doc_id, date=when, date_source=source)
    return StoredDocument(meta, "h", "f", 1)


def test_recency_ranks_a_file_date_below_every_stated_date() -> None:
    live = {
        "old": _doc("old", date(2015, 1, 1), "manifest"),
        "mid": _doc("mid", date(2020, 1, 1), "text-year"),
        "copied": _doc("copied", date(2026, 1, 1), "file"),
        "before": _doc("before", date(2026, 1, 1), ""),  # a store from before date sources
    }
    index = LexicalIndex.build("v1", [], live)

    assert index.recency(live["before"]) == 1.0  # an unknown source counts as stated
    assert index.recency(live["mid"]) > index.recency(live["old"]) == 0.0
    assert index.recency(live["copied"]) == 0.0  # never above a stated date
    del live["before"]
    index = LexicalIndex.build("v2", [], live)
    assert index.recency(live["mid"]) == 1.0 > index.recency(live["copied"])
