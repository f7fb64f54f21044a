"""Fixtures for the read path: a store holding the bundled corpus, and answerers over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answering import Answerer
from hfbot.settings import Settings, load_settings
from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store]]:
    """The bundled corpus ingested once per test module, with the fake embedder."""
    data = tmp_path_factory.mktemp("answer-data")
    settings = load_settings(HFBOT_DATA_DIR=str(data))
    store = Store.open(settings)
    report = run_ingest(settings, store=store, embedder=FakeEmbedder())
    assert not report.failed
    yield settings, store
    store.close()


@pytest.fixture
def answerer(corpus_store: tuple[Settings, Store]) -> Answerer:
    settings, store = corpus_store
    return Answerer(settings, store=store, embedder=FakeEmbedder())


@pytest.fixture
def empty_store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings) as store:
        yield store


@pytest.fixture
def use_fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every make_embedder() (ingest and answering) gives the fake: no model is loaded."""
    monkeypatch.setattr(
        "ingest.embedder.make_embedder", lambda settings, model=None: FakeEmbedder()
    )


def data_dir(settings: Settings) -> Path:
    return Path(settings.data_dir)
