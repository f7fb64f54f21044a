"""Incremental ingest: unchanged stays, changed is replaced, removed is gone, metadata follows."""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from filelock import FileLock

from hfbot.cli import cli
from hfbot.settings import Settings
from ingest.pipeline import (
    IngestBusy,
    IngestReport,
    IngestUsageError,
    ensure_ingested,
    run_ingest,
)
from ingest.store import Store
from ingest.units import decode_vectors, unit_texts
from tests.fakes import FakeEmbedder
from tests.ingest.conftest import live_texts, nearest_live

SEEDS = [
    "000_83f573777f471351.txt",
    "001_b62b5ad0e7f9da97.txt",
    "002_8cd09686609c0757.txt",
    "003_539dbae2e487e3f7.txt",
    "004_222ede703e19ef52.txt",
]


def _texts_embedded(store: Store, file: str | None = None) -> int:
    """How many texts ingest embeds for the live chunks (of one file): each and its units."""
    chunks = [c for c in store.live_chunks() if file is None or c.doc.file == file]
    return sum(1 + len(unit_texts(c.text, c.search_text, c.heading)) for c in chunks)


def test_every_unit_of_a_chunk_has_its_vector_in_the_store(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)

    for chunk in store.live_chunks():
        count = len(unit_texts(chunk.text, chunk.search_text, chunk.heading))
        vectors = decode_vectors(chunk.unit_vectors, count, fake_embedder.dimension)
        assert vectors is not None and vectors.shape == (count, fake_embedder.dimension)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def _run(settings: Settings, folder: Path, embedder: FakeEmbedder, **kw: object) -> IngestReport:
    return run_ingest(settings, [folder], embedder=embedder, **kw)  # type: ignore[arg-type]


def test_bundled_corpus_goes_in_with_manifest_metadata(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    report = _run(settings, corpus_copy, fake_embedder)

    assert report.added == 5 and report.failed == [] and report.exit_code == 0
    docs = store.documents()
    assert sorted(docs) == SEEDS
    news = docs["003_539dbae2e487e3f7.txt"].meta
    assert news.date == date(2022, 2, 7) and news.updated == date(2024, 1, 11)
    assert news.title == "Partnerskapsmøte i helsefellesskapet"
    assert store.corpus_version()
    assert report.chunks == store.count()
    assert fake_embedder.calls == _texts_embedded(store)  # each chunk and each of its units


def test_cleaning_shows_in_the_store(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    texts = live_texts(store)

    org_chart = "Politisk og administrativ toppledelse i kommuner og helseforetak"
    assert " ".join(texts["002_8cd09686609c0757.txt"]).count(org_chart) == 1
    web = "\n".join(texts["001_b62b5ad0e7f9da97.txt"])
    assert "Submeny" not in web and "A A" not in web
    assert "Sammen om helhetlige helsetjenester" in web
    # OCR damage stays in the quoted text but is repaired for search.
    ocr = [c for c in store.live_chunks() if c.doc.doc_id == "004_222ede703e19ef52.txt"]
    hit = next(c for c in ocr if "gjennomfert 6 mgter" in c.text)
    assert "gjennomført 6 møter" in hit.search_text
    assert any("Helse Sør-Øst" in c.search_text and "Sgr-Jst" in c.text for c in ocr)


def test_unchanged_run_embeds_nothing_and_loads_no_model(
    corpus_copy: Path,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    version = Store.open(settings).corpus_version()

    def no_model(settings: Settings) -> None:
        raise AssertionError("an all-unchanged run must not load the embedding model")

    monkeypatch.setattr("ingest.embedder.make_embedder", no_model)
    same_model = settings.model_copy(update={"embedding_model": fake_embedder.model_name})
    # The full check (a store handed in), then the quick one (the note of the last run).
    for store in (Store.open(settings), None):
        report = run_ingest(same_model, [corpus_copy], store=store)
        assert report.unchanged == 5 and not report.changed and report.chunks == 0
    assert Store.open(settings).corpus_version() == version


def test_quick_unchanged_check_never_hides_a_change(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    assert _run(settings, corpus_copy, fake_embedder).unchanged == 5  # noted: quick

    path = corpus_copy / "003_539dbae2e487e3f7.txt"
    stat = path.stat()
    text = path.read_text(encoding="utf-8").replace("rundt 80", "rundt 95")
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert _run(settings, corpus_copy, fake_embedder).updated == 1

    store.unpublish("000_83f573777f471351.txt")  # the store changed behind its back
    assert _run(settings, corpus_copy, fake_embedder).added == 1


def test_changed_document_is_replaced_and_old_text_is_gone(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    version = store.corpus_version()
    path = corpus_copy / "003_539dbae2e487e3f7.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace("rundt 80 deltakere", "rundt 95 deltakere"),
        encoding="utf-8",
    )
    before = fake_embedder.calls

    report = _run(settings, corpus_copy, fake_embedder)

    assert (report.updated, report.unchanged, report.added) == (1, 4, 0)
    assert report.chunks == len(live_texts(store)[path.name])
    assert fake_embedder.calls - before == _texts_embedded(store, path.name)
    text = " ".join(live_texts(store)[path.name])
    assert "rundt 95 deltakere" in text and "rundt 80 deltakere" not in text
    assert store.count() == sum(d.chunk_count for d in store.documents().values())
    assert store.corpus_version() != version


def test_removed_file_is_gone_from_answers(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    (corpus_copy / "000_83f573777f471351.txt").unlink()

    report = _run(settings, corpus_copy, fake_embedder)

    assert report.removed == 1 and report.documents["removed"] == ["000_83f573777f471351.txt"]
    assert "000_83f573777f471351.txt" not in store.documents()
    hits = nearest_live(store, fake_embedder.embed_query("9400 ansatte 6600 årsverk"), k=20)
    assert hits and all(h.doc.doc_id != "000_83f573777f471351.txt" for h in hits)
    assert store.count() == sum(d.chunk_count for d in store.documents().values())


def test_manifest_only_change_updates_metadata_without_embedding(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    manifest = corpus_copy / "MANIFEST.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            'title: "Partnerskapsmøte i helsefellesskapet"',
            'title: "Partnerskapsmøtet 2022"\n  url: "https://example.org/pm?a=(1)"',
        ),
        encoding="utf-8",
    )
    before = fake_embedder.calls

    report = _run(settings, corpus_copy, fake_embedder)

    assert report.metadata_updated == 1 and report.unchanged == 4 and report.updated == 0
    assert fake_embedder.calls == before
    meta = store.documents()["003_539dbae2e487e3f7.txt"].meta
    assert (meta.title, meta.url) == ("Partnerskapsmøtet 2022", "https://example.org/pm?a=(1)")
    chunk = next(c for c in store.live_chunks() if c.doc.doc_id == "003_539dbae2e487e3f7.txt")
    raw = store.chunks.get(ids=[chunk.chunk_id], include=["metadatas"])["metadatas"][0]
    assert raw["title"] == "Partnerskapsmøtet 2022"


def test_file_without_manifest_entry_takes_title_and_date_from_its_text(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "nyhet.txt").write_text(
        "Nytt samarbeid om legevakt\n\nPublisert 12.06.2024\nSist oppdatert 3. september 2024\n\n"
        "Kommunene i Hallingdal har inngått en ny avtale om legevakt.\n",
        encoding="utf-8",
    )
    (folder / "notat uten dato.md").write_text("Noen ord om samhandling i regionen.\n")

    _run(settings, folder, fake_embedder)

    docs = store.documents()
    news = docs["nyhet.txt"].meta
    assert news.title == "Nytt samarbeid om legevakt"
    assert (news.date, news.updated) == (date(2024, 6, 12), date(2024, 9, 3))
    assert news.date_approximate and news.effective_date == date(2024, 9, 3)
    assert news.date_source == "text"
    undated = docs["notat uten dato.md"].meta
    # No date anywhere: undated, not the file's modification time (today, after a copy).
    assert (undated.date, undated.date_source) == (None, "")


def test_manifest_entry_without_a_file_is_a_warning(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    manifest = corpus_copy / "MANIFEST.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8") + "- file: referat-2025.txt\n  title: Referat\n",
        encoding="utf-8",
    )

    report = _run(settings, corpus_copy, fake_embedder)

    assert report.exit_code == 0 and report.added == 5
    assert report.warnings == ["MANIFEST.yaml: no file 'referat-2025.txt' for its entry"]
    assert "referat-2025.txt" in report.summary()


def test_broken_manifest_changes_nothing_and_says_where(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    (corpus_copy / "MANIFEST.yaml").write_text("- file: a.txt\n  title: [unclosed\n")
    (corpus_copy / "000_83f573777f471351.txt").unlink()

    report = _run(settings, corpus_copy, fake_embedder)

    assert report.exit_code == 1
    assert report.failed[0]["file"] == "MANIFEST.yaml" and "line" in report.failed[0]["error"]
    assert len(store.documents()) == 5


def test_dry_run_changes_nothing(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    version = store.corpus_version()
    (corpus_copy / "000_83f573777f471351.txt").unlink()
    (corpus_copy / "ny.txt").write_text("Ny sak\n\nEt nytt dokument om samhandling.\n")
    p = corpus_copy / "001_b62b5ad0e7f9da97.txt"
    p.write_text(p.read_text(encoding="utf-8") + "\nEn ny linje.\n", encoding="utf-8")
    calls = fake_embedder.calls

    report = _run(settings, corpus_copy, fake_embedder, dry_run=True)

    assert report.dry_run
    assert report.documents["added"] == ["ny.txt"]
    assert report.documents["updated"] == ["001_b62b5ad0e7f9da97.txt"]
    assert report.documents["removed"] == ["000_83f573777f471351.txt"]
    assert fake_embedder.calls == calls
    assert sorted(store.documents()) == SEEDS and store.corpus_version() == version


def test_rebuild_starts_over(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    first = store.count()

    report = _run(settings, corpus_copy, fake_embedder, rebuild=True)

    assert report.added == 5 and report.unchanged == 0
    assert Store.open(settings).count() == first


def test_subfolders_are_ingested_with_their_relative_path(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    folder = tmp_path / "docs"
    (folder / "2024" / "referater").mkdir(parents=True)
    (folder / "2024" / "referater" / "ssu.md").write_text("# SSU\n\nSSU møttes i juni.\n")
    (folder / "2024" / "MANIFEST.yaml").write_text(
        "- file: referater/ssu.md\n  title: SSU-referat juni\n  date: 2024-06-07\n"
    )

    _run(settings, folder, fake_embedder)

    meta = store.documents()["2024/referater/ssu.md"].meta
    assert (meta.title, meta.date, meta.date_approximate) == (
        "SSU-referat juni",
        date(2024, 6, 7),
        False,
    )


def test_several_folders_mirror_together(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    for name in ("styret", "ssu"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "referat.md").write_text(f"# Referat {name}\n\nMøte i {name}.\n")

    run_ingest(settings, [tmp_path / "styret", tmp_path / "ssu"], embedder=fake_embedder)
    assert sorted(store.documents()) == ["ssu/referat.md", "styret/referat.md"]

    report = run_ingest(settings, [tmp_path / "ssu"], embedder=fake_embedder)
    # The store mirrors what is given; ids are relative to the folder given.
    assert report.documents["removed"] == ["ssu/referat.md", "styret/referat.md"]
    assert list(store.documents()) == ["referat.md"]


def test_a_corpus_subfolder_keeps_the_ids_of_a_whole_corpus_run(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    local = settings.model_copy(update={"corpus_dir": corpus_copy})
    (corpus_copy / "2025").mkdir()
    (corpus_copy / "2025" / "ssu.md").write_text("# SSU 2025\n\nMøteplan for 2025.\n")
    run_ingest(local, embedder=fake_embedder)
    assert "2025/ssu.md" in store.documents()

    report = run_ingest(local, [corpus_copy / "2025"], embedder=fake_embedder)

    assert report.unchanged == 1 and report.removed == 5
    assert list(store.documents()) == ["2025/ssu.md"]


def test_second_ingest_waits_then_gives_up_with_a_clear_message(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, corpus_copy: Path
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    quick = settings.model_copy(update={"ingest_lock_timeout_s": 0.3})
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with FileLock(str(settings.data_dir / "ingest.lock")):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        with pytest.raises(IngestBusy, match="another ingest is running"):
            _run(quick, corpus_copy, fake_embedder)
    finally:
        release.set()
        holder.join(5)
    assert _run(quick, corpus_copy, fake_embedder).added == 5


def test_two_ingests_at_once_give_one_consistent_store(
    corpus_copy: Path, settings: Settings, store: Store
) -> None:
    reports: list[IngestReport] = []

    def run() -> None:
        reports.append(run_ingest(settings, [corpus_copy], embedder=FakeEmbedder()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(r.added for r in reports) == [0, 5]
    assert sorted(r.unchanged for r in reports) == [0, 5]
    assert store.count() == sum(d.chunk_count for d in store.documents().values())


def test_ensure_ingested_only_when_the_store_is_empty(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    local = settings.model_copy(update={"corpus_dir": corpus_copy})
    first = ensure_ingested(local, embedder=fake_embedder)
    assert first is not None and first.added == 5
    assert ensure_ingested(local, embedder=fake_embedder) is None


def test_cli_json_and_exit_codes(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ingest.embedder.make_embedder", lambda settings: FakeEmbedder())
    runner = CliRunner()
    (corpus_copy / "tom.txt").write_bytes(b"")

    result = runner.invoke(cli, ["ingest", str(corpus_copy), "--json"])
    assert result.exit_code == 1, result.output
    out = json.loads(result.output)
    assert out["added"] == 5 and out["failed"] == [{"file": "tom.txt", "error": "empty file"}]
    assert set(out) >= {"added", "updated", "removed", "unchanged", "skipped", "chunks", "seconds"}

    (corpus_copy / "tom.txt").unlink()
    result = runner.invoke(cli, ["ingest", str(corpus_copy)])
    assert result.exit_code == 0 and "5 unchanged" in result.output

    result = runner.invoke(cli, ["ingest", str(tmp_path / "finnes-ikke")])
    assert result.exit_code == 2 and "finnes-ikke" in result.output


@pytest.mark.slow
def test_incremental_ingest_against_a_chroma_server(
    corpus_copy: Path, server_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    store = Store.open(server_settings)
    report = _run(server_settings, corpus_copy, fake_embedder)
    assert report.added == 5 and report.failed == []

    shutil.move(corpus_copy / "000_83f573777f471351.txt", corpus_copy.parent / "away.txt")
    p = corpus_copy / "001_b62b5ad0e7f9da97.txt"
    p.write_text(p.read_text(encoding="utf-8") + "\nTillegg om 2025.\n", encoding="utf-8")
    report = _run(server_settings, corpus_copy, fake_embedder)

    assert (report.removed, report.updated, report.unchanged) == (1, 1, 3)
    texts = live_texts(store)
    assert "000_83f573777f471351.txt" not in texts
    assert "Tillegg om 2025." in " ".join(texts["001_b62b5ad0e7f9da97.txt"])
    assert store.count() == sum(d.chunk_count for d in store.documents().values())
    assert _run(server_settings, corpus_copy, fake_embedder, dry_run=True).changed is False

    manifest = corpus_copy / "MANIFEST.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("date: 2021-12-31", "date: 2021-11-30"),
        encoding="utf-8",
    )
    calls = fake_embedder.calls
    report = _run(server_settings, corpus_copy, fake_embedder)
    assert report.metadata_updated == 1 and fake_embedder.calls == calls
    assert store.documents()["002_8cd09686609c0757.txt"].meta.date == date(2021, 11, 30)


def test_another_embedding_model_asks_for_a_rebuild(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _run(settings, corpus_copy, fake_embedder)
    wider = FakeEmbedder(dimension=300)
    wider.model_name = "another-model"

    with pytest.raises(IngestUsageError, match="--rebuild"):
        _run(settings, corpus_copy, wider)

    assert _run(settings, corpus_copy, wider, rebuild=True).added == 5


def test_cli_says_so_when_the_chroma_server_is_down(
    monkeypatch: pytest.MonkeyPatch, corpus_copy: Path
) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(free_port()))

    result = CliRunner().invoke(cli, ["ingest", str(corpus_copy), "--json"])

    assert result.exit_code == 1
    assert "Chroma server 127.0.0.1" in json.loads(result.output)["error"]


def test_a_store_written_before_date_sources_stays_readable_and_is_relabelled(
    corpus_copy: Path, settings: Settings, fake_embedder: FakeEmbedder, store: Store
) -> None:
    (corpus_copy / "notat.md").write_text("Noen ord om samhandling i regionen.\n")
    _run(settings, corpus_copy, fake_embedder)
    # As an older hfbot left it: no date_source, and the undated note dated by its mtime.
    records = store.registry.get(ids=["notat.md", "003_539dbae2e487e3f7.txt"])
    old = []
    for meta in records["metadatas"]:
        meta = dict(meta)
        meta.pop("date_source")
        meta["meta_fingerprint"] = meta["meta_fingerprint"].rsplit("+", 1)[0]
        if meta["doc_id"] == "notat.md":
            meta["date"] = date.today().isoformat()
        old.append(meta)
    store.registry.upsert(ids=records["ids"], metadatas=old, embeddings=[[1.0]] * len(old))

    docs = store.documents()  # read as before: a date of unknown source counts as stated
    assert docs["notat.md"].meta.stated_date == date.today()
    assert docs["003_539dbae2e487e3f7.txt"].meta.stated_date == date(2024, 1, 11)

    embedded = fake_embedder.calls
    report = _run(settings, corpus_copy, fake_embedder)

    assert fake_embedder.calls == embedded  # metadata only: nothing embedded again
    assert sorted(report.documents["metadata"]) == ["003_539dbae2e487e3f7.txt", "notat.md"]
    docs = store.documents()
    assert (docs["notat.md"].meta.date, docs["notat.md"].meta.date_source) == (None, "")
    assert docs["003_539dbae2e487e3f7.txt"].meta.date_source == "manifest"
