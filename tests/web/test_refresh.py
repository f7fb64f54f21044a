"""The scheduled refresh: one fetcher at a time, an ingest only when something changed, and
no fetch storm when a replica restarts."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from hfbot.settings import Settings
from ingest.web.refresh import SourcesRefreshJob, fetch_sources, fetch_turn
from tests.web.conftest import Site
from tests.web.test_fetch import TEXT


def test_the_refresh_ingests_only_when_a_source_changed_and_waits_an_interval(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/om", "Om", TEXT, etag='"1"')
    settings = web_settings([{"url": site.url("/om")}], HFBOT_SOURCES_REFRESH_HOURS=24)
    ingests: list[int] = []
    job = SourcesRefreshJob(settings, None, lambda: ingests.append(1))
    assert job.next_wait() == 0.0  # never fetched: due now

    assert job.run_once().added and ingests == [1]
    assert 24 * 3600 - 60 < job.next_wait() <= 24 * 3600  # due a day after that fetch
    assert job.run_once().unchanged == 1 and ingests == [1]  # a 304: nothing to ingest


def test_only_one_process_fetches_at_a_time(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/om", "Om", TEXT)
    settings = web_settings([{"url": site.url("/om")}])
    with fetch_turn(None) as mine:
        assert mine
        report = fetch_sources(settings)
        assert "another replica" in report.warnings[0] and site.hits("/om") == []
    assert fetch_sources(settings).added


@pytest.mark.postgres
def test_the_postgresql_advisory_lock_gives_one_replica_the_turn() -> None:
    url = os.environ.get("HFBOT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("HFBOT_TEST_DATABASE_URL is not set")
    from sqlalchemy import create_engine

    first, second = create_engine(url), create_engine(url)
    try:
        with fetch_turn(first) as mine:
            assert mine
            with fetch_turn(second) as theirs:
                assert not theirs
        with fetch_turn(second) as theirs:
            assert theirs
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.postgres
def test_with_postgresql_a_replica_leaves_the_fetch_to_the_one_fetching(
    site: Site, web_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = os.environ.get("HFBOT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("HFBOT_TEST_DATABASE_URL is not set")
    from click.testing import CliRunner
    from sqlalchemy import create_engine

    from hfbot.cli import cli

    site.page("/om", "Om", TEXT)
    monkeypatch.setenv("HFBOT_DATABASE_URL", url)
    settings = web_settings([{"url": site.url("/om")}])
    other, mine = create_engine(url), create_engine(url)
    ingests: list[int] = []
    try:
        with fetch_turn(other) as theirs:  # another replica is fetching right now
            assert theirs
            result = CliRunner().invoke(cli, ["fetch"])
            assert result.exit_code == 1 and "another replica" in result.output
            result = CliRunner().invoke(cli, ["ingest", "--fetch"])
            assert result.exit_code == 1 and "another replica" in result.output
            report = SourcesRefreshJob(settings, mine, lambda: ingests.append(1)).run_once()
            assert "another replica" in report.warnings[0]
            assert site.hits("/om") == [] and ingests == []
        # The turn is free again: the next one fetches (and the scheduled job ingests).
        result = CliRunner().invoke(cli, ["fetch"])
        assert result.exit_code == 0, result.output
        assert site.hits("/om") == [200]
    finally:
        other.dispose()
        mine.dispose()
