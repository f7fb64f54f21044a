"""A store answers only to its own model: a changed HFBOT_EMBEDDING_MODEL waits for --rebuild.

The store records the model its vectors come from. Until `hfbot ingest --rebuild`, answers and
new documents keep using that model (with a warning), and `hfbot ingest` and `hfbot doctor`
say how to switch. One store never holds vectors of two models.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answering import Answerer
from hfbot.cli import cli
from hfbot.settings import DEFAULT_EMBEDDING_MODEL, Settings
from ingest.embedder import LEGACY_DEFAULT_MODEL, store_model
from ingest.models import Chunk, DocumentMeta
from ingest.pipeline import IngestUsageError, run_ingest
from ingest.store import Store, StoredDocument
from tests.fakes import FakeEmbedder


def _fake(model: str) -> FakeEmbedder:
    fake = FakeEmbedder()
    fake.model_name = model
    return fake


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[FakeEmbedder]:
    """make_embedder gives a fake named after the model it is asked for; all are kept."""
    out: list[FakeEmbedder] = []

    def make(settings: Settings) -> FakeEmbedder:
        out.append(_fake(settings.embedding_model))
        return out[-1]

    monkeypatch.setattr("ingest.embedder.make_embedder", make)
    return out


def _with_model(settings: Settings, corpus: Path, model: str) -> Settings:
    return settings.model_copy(update={"embedding_model": model, "corpus_dir": corpus})


def test_the_store_records_its_model_and_keeps_it_until_rebuild(
    settings: Settings, corpus_copy: Path, made: list[FakeEmbedder]
) -> None:
    old = _with_model(settings, corpus_copy, "model-a")
    assert run_ingest(old).added == 5
    with Store.open(old) as store:
        assert store.embedding_model() == "model-a"

    # The setting changes; a plain ingest re-embeds nothing and says how to switch.
    new = _with_model(settings, corpus_copy, "model-b")
    report = run_ingest(new)
    assert report.unchanged == 5 and report.chunks == 0
    assert any("model-a" in w and "hfbot ingest --rebuild" in w for w in report.warnings)
    # A new document is embedded with the store's model, not the setting's.
    (corpus_copy / "ny.txt").write_text(
        "Nytt dokument\n\nLegevakten i Drammen har fått nye lokaler.\n", encoding="utf-8"
    )
    made.clear()
    report = run_ingest(new)
    assert report.added == 1 and report.chunks >= 1
    assert [m.model_name for m in made if m.calls] == ["model-a"]
    assert any("hfbot ingest --rebuild" in w for w in report.warnings)
    with Store.open(new) as store:
        assert store.embedding_model() == "model-a"

    # --rebuild switches: everything again with the new model, and the store records it.
    made.clear()
    report = run_ingest(new, rebuild=True)
    assert report.added == 6 and not report.warnings
    assert {m.model_name for m in made if m.calls} == {"model-b"}
    with Store.open(new) as store:
        assert store.embedding_model() == "model-b"
    assert not run_ingest(new).warnings


def test_an_embedder_of_another_model_is_refused(
    settings: Settings, corpus_copy: Path, store: Store
) -> None:
    run_ingest(settings, [corpus_copy], store=store, embedder=_fake("model-a"))
    (corpus_copy / "ny.txt").write_text("Nytt\n\nEn ny tekst om legevakt.\n", encoding="utf-8")
    with pytest.raises(IngestUsageError, match="--rebuild"):
        run_ingest(settings, [corpus_copy], store=store, embedder=_fake("model-b"))
    assert "ny.txt" not in store.documents()
    # With --rebuild it may: the store then holds only the new model's vectors.
    report = run_ingest(
        settings, [corpus_copy], store=store, embedder=_fake("model-b"), rebuild=True
    )
    assert report.added == 6 and store.embedding_model() == "model-b"


def test_answers_use_the_model_the_store_was_built_with(
    settings: Settings,
    corpus_copy: Path,
    made: list[FakeEmbedder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    run_ingest(_with_model(settings, corpus_copy, "model-a"))
    new = _with_model(settings, corpus_copy, "model-b")
    with caplog.at_level(logging.WARNING, logger="ingest.embedder"):
        answerer = Answerer(new)
        assert answerer.embedder.model_name == "model-a"  # type: ignore[attr-defined]
    assert "hfbot ingest --rebuild" in caplog.text
    assert answerer.answer("Hvem deltar på partnerskapsmøtet?").text  # the store is queried
    # A store with the setting's model: no warning.
    caplog.clear()
    run_ingest(new, rebuild=True)
    with caplog.at_level(logging.WARNING, logger="ingest.embedder"):
        assert Answerer(new).embedder.model_name == "model-b"  # type: ignore[attr-defined]
    assert "rebuild" not in caplog.text


def test_ingest_ask_and_doctor_commands_say_how_to_switch(
    corpus_copy: Path, made: list[FakeEmbedder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFBOT_CORPUS_DIR", str(corpus_copy))
    monkeypatch.setenv("HFBOT_EMBEDDING_MODEL", "model-a")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest"]).exit_code == 0
    monkeypatch.setenv("HFBOT_EMBEDDING_MODEL", "model-b")

    result = runner.invoke(cli, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "model-a" in result.output and "hfbot ingest --rebuild" in result.output

    made.clear()
    result = runner.invoke(cli, ["ask", "Hvem deltar på partnerskapsmøtet?"])
    assert result.exit_code == 0, result.output
    assert [m.model_name for m in made] == ["model-a"]

    result = runner.invoke(cli, ["doctor", "--quick"])
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "store:" in x)
    assert "embedded with model-a" in line and "hfbot ingest --rebuild" in line

    assert runner.invoke(cli, ["ingest", "--rebuild"]).exit_code == 0
    result = runner.invoke(cli, ["doctor", "--quick"])
    line = next(x for x in result.output.splitlines() if "store:" in x)
    assert line.startswith("✓") and "embedded with model-b" in line


def _legacy_store(settings: Settings) -> Store:
    """A store written before stores recorded their model: chunks, no model record."""
    store = Store.open(settings)
    meta = DocumentMeta(doc_id="a.txt", file="a.txt", title="a")
    store.write_chunks([Chunk("a.txt", "h1", 0, "Tekst.")], [[1.0, 0.0]], meta)
    store.publish(StoredDocument(meta, "h1", meta.fingerprint(), 1))
    return store


def test_a_store_from_before_the_record_counts_as_built_with_the_old_setting(
    settings: Settings,
) -> None:
    assert store_model(settings, Store.open(settings)) is None  # empty: any model may start it
    store = _legacy_store(settings)
    assert store.embedding_model() is None
    # The setting left at its default then meant MiniLM; a model set by hand is still set.
    assert settings.embedding_model == DEFAULT_EMBEDDING_MODEL
    assert store_model(settings, store) == LEGACY_DEFAULT_MODEL
    own = settings.model_copy(update={"embedding_model": "/models/mine"})
    assert store_model(own, store) == "/models/mine"


def test_a_running_bot_follows_a_rebuild_with_another_model(
    settings: Settings, corpus_copy: Path, made: list[FakeEmbedder]
) -> None:
    run_ingest(_with_model(settings, corpus_copy, "model-a"))
    new = _with_model(settings, corpus_copy, "model-b")
    answerer = Answerer(new, index_refresh_s=0)
    answerer.answer("Hvem deltar på partnerskapsmøtet?")
    assert answerer.embedder.model_name == "model-a"  # type: ignore[attr-defined]
    # Another process rebuilds the store with model-b (only its record matters here).
    answerer.store.set_embedding_model("model-b")
    answerer.answer("Hvem deltar på partnerskapsmøtet?")
    assert answerer.embedder.model_name == "model-b"  # type: ignore[attr-defined]
    assert answerer.retriever.embedder is answerer.embedder
