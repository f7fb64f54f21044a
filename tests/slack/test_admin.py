"""Secretariat commands from Slack: `/hfbot oppdater` and documents uploaded in a DM."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder
from tests.slack.conftest import ADMIN, Bot
from tests.slack.fake_slack import block_texts
from tests.web.conftest import Route, Site, site  # noqa: F401 - `site` is a fixture
from tests.web.test_fetch import TEXT

pytestmark = pytest.mark.slow

NEW_DOCUMENT = (
    "# Ny rutine for utskrivning\n\n"
    "Publisert 03.03.2025\n\n"
    "Kommunene og sykehuset varsler hverandre senest dagen før utskrivning.\n"
)


@pytest.fixture
def corpus_bot(make_bot: Callable[..., Bot], corpus_copy: Path, settings_store: Store) -> Bot:
    ingests: list[float] = []
    embedder = FakeEmbedder()

    def ingest():
        ingests.append(time.time())
        return run_ingest(bot.settings, store=settings_store, embedder=embedder)

    bot = make_bot(
        env={"HFBOT_CORPUS_DIR": str(corpus_copy)},
        run_ingest=ingest,
        documents=settings_store.documents,
        corpus_version=settings_store.corpus_version,
    )
    bot.extra["ingests"] = ingests
    bot.extra["store"] = settings_store
    bot.extra["corpus"] = corpus_copy
    return bot


@pytest.fixture
def settings_store(isolated_env: Path) -> Store:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(isolated_env / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return Store(client, "slacktest")


def test_admin_refresh_runs_the_ingest_and_replies_with_counts(corpus_bot: Bot) -> None:
    reply = corpus_bot.command("oppdater", user=ADMIN)
    assert reply.status == 200 and "Oppdaterer dokumentene" in reply.json()["text"]
    (response,) = corpus_bot.wait_responses(1, timeout=60)
    assert "5 lagt til" in response["text"] and "0 feilet" in response["text"]
    assert len(corpus_bot.extra["store"].documents()) == 5

    (corpus_bot.extra["corpus"] / "ny-rutine.md").write_text(NEW_DOCUMENT, encoding="utf-8")
    corpus_bot.command("oppdater", user=ADMIN)
    response = corpus_bot.wait_responses(2, timeout=60)[-1]
    assert "1 lagt til" in response["text"] and "5 uendret" in response["text"]


def test_refresh_fetches_the_web_sources_and_names_those_that_failed_since_when(
    make_bot: Callable[..., Bot],
    corpus_copy: Path,
    settings_store: Store,
    site: Site,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    site.page("/om", "Om helsefellesskapet", TEXT)
    site.routes["/nede"] = Route(status=500)
    sources = tmp_path / "SOURCES.yaml"
    sources.write_text(yaml.safe_dump([{"url": site.url(p)} for p in ("/om", "/nede")]))
    embedder = FakeEmbedder()
    bot = make_bot(
        env={
            "HFBOT_CORPUS_DIR": str(corpus_copy),
            "HFBOT_SOURCES_FILE": str(sources),
            "HFBOT_SOURCES_DELAY": "0",
            "HFBOT_SOURCES_RETRIES": "0",
            "HFBOT_SOURCES_TIMEOUT": "2",
        },
        run_ingest=lambda: run_ingest(bot.settings, store=settings_store, embedder=embedder),
    )
    bot.command("oppdater", user=ADMIN)
    (response,) = bot.wait_responses(1, timeout=60)
    text = response["text"]
    assert "6 lagt til" in text  # the corpus and the page that could be fetched
    assert "Nettkildene: 1 nye, 0 endret, 0 fjernet, 0 uendret, 1 feilet." in text
    failed = [line for line in text.splitlines() if site.url("/nede") in line]
    assert len(failed) == 1 and "HTTP 500" in failed[0] and "feiler siden" in failed[0]
    assert site.url("/om") + ":" not in text

    bot.command("oppdater", user=ADMIN)
    again = bot.wait_responses(2, timeout=60)[-1]["text"]
    assert "1 uendret, 1 feilet" in again
    # Still failing: since the first failure, not since this fetch.
    assert [line for line in again.splitlines() if site.url("/nede") in line] == failed


def test_non_admin_refresh_is_refused_and_nothing_runs(corpus_bot: Bot) -> None:
    reply = corpus_bot.command("oppdater", user="UASKER")
    assert reply.status == 200
    assert "bare sekretariatet" in reply.json()["text"]
    time.sleep(0.5)
    assert corpus_bot.extra["ingests"] == []
    assert corpus_bot.responses() == []


def _share_file(bot: Bot, *, user: str, text: str = "", name: str = "ny-rutine.md") -> dict:
    path = f"/files-pri/T0001-F1/{name}"
    bot.api.downloads[path] = (NEW_DOCUMENT.encode(), "text/markdown")
    bot.api.files["F1"] = {
        "id": "F1",
        "name": name,
        "title": name,
        "size": len(NEW_DOCUMENT),
        "url_private": bot.api.base + path,
        "url_private_download": bot.api.base + path,
    }
    return bot.message(
        text,
        channel="DADMIN",
        channel_type="im",
        user=user,
        subtype="file_share",
        files=[{"id": "F1", "file_access": "check_file_info"}],
    )


def test_admin_upload_in_a_dm_is_downloaded_ingested_and_confirmed(corpus_bot: Bot) -> None:
    _share_file(corpus_bot, user=ADMIN)
    (post,) = corpus_bot.api.wait_for("chat.postMessage", timeout=60)
    assert post.params["channel"] == "DADMIN"
    assert "«Ny rutine for utskrivning» er lagt til" in post.params["text"]
    assert "tekstbiter" in post.params["text"]
    (download,) = corpus_bot.api.calls_to("/files-pri/T0001-F1/ny-rutine.md")
    assert download.headers["Authorization"] == "Bearer xoxb-test-token"
    saved = corpus_bot.extra["corpus"] / "ny-rutine.md"
    assert saved.read_text(encoding="utf-8") == NEW_DOCUMENT
    titles = {d.meta.title for d in corpus_bot.extra["store"].documents().values()}
    assert "Ny rutine for utskrivning" in titles


def test_unsupported_upload_is_refused_with_a_reason(corpus_bot: Bot) -> None:
    _share_file(corpus_bot, user=ADMIN, name="program.exe")
    (post,) = corpus_bot.api.wait_for("chat.postMessage")
    assert "program.exe" in post.params["text"] and "PDF" in post.params["text"]
    assert not (corpus_bot.extra["corpus"] / "program.exe").exists()
    assert corpus_bot.extra["ingests"] == []


def test_non_admin_upload_is_refused_but_a_question_in_it_is_answered(corpus_bot: Bot) -> None:
    _share_file(corpus_bot, user="UASKER")
    (refusal,) = corpus_bot.api.wait_for("chat.postMessage")
    assert "bare sekretariatet" in refusal.params["text"]

    _share_file(corpus_bot, user="UASKER", text="Hva sier denne om utskrivning?")
    posts = corpus_bot.api.wait_for("chat.postMessage", 2)
    assert "Svar på: Hva sier denne om utskrivning?" in block_texts(posts[1].params["blocks"])
    assert corpus_bot.extra["ingests"] == []
    assert not (corpus_bot.extra["corpus"] / "ny-rutine.md").exists()
    assert not [c for c in corpus_bot.api.calls if c.method.startswith("/files-pri/")]


def test_admin_help_mentions_the_secretariat_commands(corpus_bot: Bot) -> None:
    body = corpus_bot.command("hjelp", user=ADMIN).json()
    assert "/hfbot oppdater" in block_texts(body["blocks"])
