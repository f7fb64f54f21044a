"""HFBOT_COLLECTION is checked when hfbot starts: a name Chroma would refuse, at once or only
for a rebuild's longer collection names, stops every command with one line saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from hfbot.cli import cli
from hfbot.settings import COLLECTION_MAX, load_settings
from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder


def test_a_name_too_long_for_a_rebuild_stops_hfbot_before_it_touches_the_store(
    monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    name = "helsefellesskap_vest_viken_produksjon_2025"  # 42 characters
    monkeypatch.setenv("HFBOT_COLLECTION", name)

    result = CliRunner().invoke(cli, ["ingest", "--rebuild"])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: HFBOT_COLLECTION: {name!r} has 42 characters, at most 39 fit: Chroma allows 63 "
        "characters in a collection name, and `hfbot ingest --rebuild` names its collections "
        "<name>_<generation>_documents, 24 characters more"
    ]
    assert "Traceback" not in result.output
    assert not isolated_env.exists()  # no store was opened, nothing was half-done


@pytest.mark.parametrize("name", ["hfbot prod", "_hfbot", "hfbot..test", "bøtta", ""])
def test_a_name_chroma_would_refuse_is_named_with_the_rule(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFBOT_COLLECTION", name)
    result = CliRunner().invoke(cli, ["doctor", "--quick"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: HFBOT_COLLECTION: {name!r} is not a name Chroma ")
    assert "letters a-z and A-Z, digits, '.', '_' and '-', start with a letter or digit" in (
        result.output
    )
    with pytest.raises(ValidationError, match="HFBOT_COLLECTION"):
        load_settings(HFBOT_COLLECTION=name)  # the same for code that reads the settings


@pytest.mark.parametrize("name", ["hfbot", "a", "hfbot-test.2", "x" * COLLECTION_MAX])
def test_names_within_the_rule_are_taken(name: str) -> None:
    assert load_settings(HFBOT_COLLECTION=name).collection == name


def test_the_longest_name_allowed_survives_a_rebuild_within_chromas_rule(tmp_path: Path) -> None:
    from chromadb.api.segment import check_index_name  # chromadb's own rule, 63 characters

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kad.txt").write_text(
        "KAD-plasser\n\nKommunale akutte døgnplasser tar imot pasienter.\n", encoding="utf-8"
    )
    settings = load_settings(HFBOT_COLLECTION="h" * COLLECTION_MAX, HFBOT_CORPUS_DIR=corpus)
    embedder = FakeEmbedder()
    run_ingest(settings, embedder=embedder)

    with Store.open(settings) as store:
        built = store.new_generation()  # what `ingest --rebuild` fills: the longest names
        names = [c.name for c in store.client.list_collections()]
        store.drop_generation(built.generation)
    assert f"{settings.collection}_{built.generation}_documents" in names
    for name in names:
        check_index_name(name)  # raises for a name Chroma may refuse

    report = run_ingest(settings, embedder=embedder, rebuild=True)
    assert report.added == 1 and not report.failed
