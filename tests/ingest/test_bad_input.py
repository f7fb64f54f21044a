"""Each kind of bad input gets a one-line reason, and every other document still goes in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hfbot.settings import Settings
from ingest.pipeline import IngestReport, run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder
from tests.ingest.conftest import live_texts, make_pdf

GOOD = "Møteplan\n\nPartnerskapsmøtet er fastsatt til 6. juni 2025 i Drammen.\n"


def _folder_with(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / name).write_bytes(content)
    return folder


def _corrupt_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer garbage\n%%EOF"


def _encrypted_pdf(tmp_path: Path) -> bytes:
    path = make_pdf(tmp_path / "secret.pdf", ["Hemmelig referat fra møtet."], password="pw")
    return path.read_bytes()


BAD = {
    "empty file": ("tom.txt", lambda tmp: b"", "empty"),
    "whitespace only": ("blank.md", lambda tmp: b"  \n\n \t\n", "empty"),
    "corrupt PDF": ("ødelagt.pdf", lambda tmp: _corrupt_pdf(), "PDF"),
    "encrypted PDF": ("låst.pdf", _encrypted_pdf, "encrypted"),
    "binary named .txt": ("bilde.txt", lambda tmp: bytes(range(256)) * 40, "not a text file"),
    "corrupt DOCX": ("rapport.docx", lambda tmp: b"PK\x03\x04 not really a zip", "DOCX"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_fails_alone_with_one_line_reason(
    case: str, tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    name, content, reason = BAD[case]
    folder = _folder_with(tmp_path, name, content(tmp_path))

    report = ingest(folder)

    assert report.exit_code == 1
    assert [f["file"] for f in report.failed] == [name]
    error = report.failed[0]["error"]
    assert reason.lower() in error.lower()
    assert "\n" not in error and len(error) < 300
    assert report.added == 1
    assert list(live_texts(store)) == ["good.txt"]


def test_failed_document_keeps_its_previous_version(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = _folder_with(tmp_path, "referat.txt", "Referat\n\nSSU møtes åtte ganger.".encode())
    ingest(folder)
    (folder / "referat.txt").write_bytes(b"\x00\x01\x02" * 100)  # overwritten by garbage

    report = ingest(folder)

    assert [f["file"] for f in report.failed] == ["referat.txt"]
    assert "SSU møtes åtte ganger." in " ".join(live_texts(store)["referat.txt"])


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encoded_norwegian_text_is_read_correctly(
    encoding: str, tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    text = (
        "Årsmøte i helsefellesskapet\n\n"
        "Styret ønsker økt samarbeid på tvers av nivåene, og særlig med fastlegene i Bærum. "
        "Møtet drøftet også «pasientens helsetjeneste».\n"
    )
    if encoding == "latin-1":
        text = text.replace("«", '"').replace("»", '"')
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "windows.txt").write_bytes(text.encode(encoding))

    report = ingest(folder)

    assert report.failed == []
    body = " ".join(live_texts(store)["windows.txt"])
    assert "Styret ønsker økt samarbeid på tvers av nivåene" in body
    assert "særlig med fastlegene i Bærum" in body


def test_utf8_with_one_bad_byte_is_still_read_as_utf8(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    text = "Møteplan\n\nPartnerskapsmøtet i Drammen samler kommunene og sykehuset årlig. "
    (folder / "nesten.txt").write_bytes(text.encode() * 20 + b"\x92 slutt.\n")

    report = ingest(folder)

    assert report.failed == []
    assert "Partnerskapsmøtet i Drammen samler kommunene" in " ".join(
        live_texts(store)["nesten.txt"]
    )


def test_file_over_the_size_limit_is_refused_and_others_go_in(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    folder = _folder_with(tmp_path, "stor.txt", b"Et langt dokument om samhandling.\n" * 40_000)
    small = settings.model_copy(update={"max_file_mb": 1.0})

    report = run_ingest(small, [folder], embedder=fake_embedder)

    assert [f["file"] for f in report.failed] == ["stor.txt"]
    assert "too large" in report.failed[0]["error"]
    assert report.added == 1


def test_large_file_within_the_limit_is_ingested_whole(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    paragraphs = [
        f"Sak {n}\n\nSSU behandlet sak {n} om samhandling mellom kommune {n % 21} og sykehuset. "
        f"Vedtaket i sak {n} ble enstemmig."
        for n in range(3000)
    ]
    folder = _folder_with(tmp_path, "stort referat.txt", "\n\n".join(paragraphs).encode())

    report = ingest(folder)

    assert report.failed == []
    texts = " ".join(live_texts(store)["stort referat.txt"])
    assert "Vedtaket i sak 2999 ble enstemmig." in texts
    assert report.chunks > 100


def test_names_with_spaces_and_norwegian_letters(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = tmp_path / "docs"
    (folder / "møter 2024").mkdir(parents=True)
    (folder / "møter 2024" / "Referat fra SSU – 7. juni (endelig).md").write_text(
        "# Referat\n\nPartnerskapsmøtet ble holdt i Drammen.", encoding="utf-8"
    )
    (folder / "Årsrapport Ål kommune.txt").write_text("Årsrapport\n\nÅl kommune deltar.\n")

    report = ingest(folder)

    assert report.failed == []
    docs = store.documents()
    assert set(docs) == {
        "møter 2024/Referat fra SSU – 7. juni (endelig).md",
        "Årsrapport Ål kommune.txt",
    }
    assert docs["Årsrapport Ål kommune.txt"].meta.file == "Årsrapport Ål kommune.txt"
    assert report.to_json()["failed"] == []


def test_unsupported_files_are_skipped_and_listed(
    tmp_path: Path, ingest: Callable[..., IngestReport], store: Store
) -> None:
    folder = _folder_with(tmp_path, "budsjett.xlsx", b"PK\x03\x04")
    (folder / ".DS_Store").write_bytes(b"\x00\x00")

    report = ingest(folder)

    assert report.skipped == ["budsjett.xlsx"]
    assert report.exit_code == 0
    assert list(store.documents()) == ["good.txt"]


def test_broken_documents_among_many_rounds_lose_nothing(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small rounds: documents are read ahead on a worker while earlier rounds embed.
    monkeypatch.setattr("ingest.pipeline.EMBED_GROUP", 2)
    monkeypatch.setattr("ingest.pipeline.PREPARE_AHEAD", 2)
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(12):
        (folder / f"referat-{n:02d}.txt").write_text(
            f"Referat {n}\n\nMøte nummer {n} i helsefellesskapet.\n", encoding="utf-8"
        )
    (folder / "referat-05.txt").write_bytes(b"")
    (folder / "referat-09.pdf").write_bytes(_corrupt_pdf())

    report = run_ingest(settings, [folder], embedder=FakeEmbedder())

    assert sorted(f["file"] for f in report.failed) == ["referat-05.txt", "referat-09.pdf"]
    assert report.added == 11
    with Store.open(settings) as store:
        texts = live_texts(store)
    assert sorted(texts) == sorted(f"referat-{n:02d}.txt" for n in range(12) if n != 5)
