"""The secretariat sees each web source in `hfbot report` and on the Home tab: when it was
fetched and changed, and which one fails, why and since when, the soon-removed first."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.report import build_report
from bot.report_text import render_text
from bot.slack.admin_home import admin_blocks
from bot.slack.feedback import FeedbackStore
from hfbot.settings import Settings
from ingest.web.fetch import run_fetch
from tests.web.conftest import Site
from tests.web.test_fetch import TEXT


def test_the_report_names_failing_and_vanishing_sources_first(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/a", "Side A", TEXT)
    site.page("/b", "Side B", TEXT.replace("Partnerskapsmøtet", "Ledermøtet"))
    site.page("/c", "Side C", TEXT.replace("Partnerskapsmøtet", "Utvalget"))
    settings = web_settings([{"url": site.url(p)} for p in ("/a", "/b", "/c")])
    run_fetch(settings)
    site.routes["/b"].status = 503
    site.routes["/c"].status = 410
    run_fetch(settings)

    feedback = FeedbackStore.from_settings(settings)
    try:
        report = build_report(settings, feedback, documents=dict, grouper=None)
    finally:
        feedback.close()
    assert [s.url for s in report.sources] == [site.url(p) for p in ("/c", "/b", "/a")]

    text = render_text(report)
    assert "Web sources (3, 2 failing" in text
    assert "HTTP 503" in text and "HTTP 410: gone on 1 fetch(es) in a row" in text
    assert json.loads(json.dumps(report.to_json()))["sources"][1]["failure"]

    home = json.dumps(admin_blocks(report), ensure_ascii=False)
    assert "Nettkilder" in home and "feiler siden" in home and "siste gode versjon" in home
