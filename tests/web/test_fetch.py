"""`hfbot fetch` against a local site: conditional GETs, redirects, PDFs, sitemaps, robots.txt,
and the failures that must never cost a document."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hfbot.settings import Settings
from ingest.manifest import read_manifest
from ingest.web.fetch import documents_dir, run_fetch
from ingest.web.state import load_state
from tests.ingest.conftest import make_pdf
from tests.web.conftest import Route, Site

TEXT = (
    "Helsefellesskapet Vest-Viken samler Vestre Viken HF og de 21 kommunene i opptaksområdet. "
    "Partnerskapsmøtet er det øverste organet og møtes en gang i året.\n\n"
    "Strategisk samarbeidsutvalg leder arbeidet mellom møtene, og faglige samarbeidsutvalg "
    "arbeider med de prioriterte pasientgruppene: barn og unge, personer med alvorlige "
    "psykiske lidelser og rusproblemer, skrøpelige eldre og personer med flere kroniske lidelser."
)


def copies(settings: Settings) -> dict[str, str]:
    """The manifest of the fetched copies: url by copy file."""
    return {f: str(e.fields["url"]) for f, e in read_manifest(documents_dir(settings)).items()}


def test_a_page_is_fetched_once_then_costs_a_304(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/om", "Om helsefellesskapet", TEXT, etag='"v1"')
    settings = web_settings([{"url": site.url("/om")}])

    first = run_fetch(settings)
    assert first.added == [site.url("/om")] and not first.failed
    (copy,) = copies(settings)
    stat = os.stat(documents_dir(settings) / copy)

    second = run_fetch(settings)
    assert second.unchanged == 1 and not second.added and not second.updated
    assert site.hits("/om") == [200, 304]
    assert os.stat(documents_dir(settings) / copy).st_mtime_ns == stat.st_mtime_ns
    assert all("hfbot" in ua and "sekretariat@example.no" in ua for ua in site.user_agents)


def test_an_edited_page_is_updated_and_a_redirect_cites_where_it_landed(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/ny/om", "Om helsefellesskapet", TEXT)
    site.routes["/om"] = Route(status=301, location="/ny/om")
    settings = web_settings([{"url": site.url("/om")}])
    run_fetch(settings)
    assert list(copies(settings).values()) == [site.url("/ny/om")]

    site.page("/ny/om", "Om helsefellesskapet", TEXT + "\n\nNytt: KAD-plasser i Drammen.")
    report = run_fetch(settings)
    assert report.updated == [site.url("/om")]
    (copy,) = copies(settings)
    assert "KAD-plasser" in (documents_dir(settings) / copy).read_text(encoding="utf-8")


def test_robots_txt_is_obeyed(site: Site, web_settings: Callable[..., Settings]) -> None:
    site.page("/private/referat", "Internt referat", TEXT)
    settings = web_settings([{"url": site.url("/private/referat")}])
    report = run_fetch(settings)
    assert report.failed and "robots.txt" in report.failed[0]["error"]
    assert site.hits("/private/referat") == [] and copies(settings) == {}


def test_robots_txt_is_obeyed_where_a_redirect_leads(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    # An allowed address that moved into a forbidden part of the site is not fetched there.
    site.page("/private/referat", "Internt referat", TEXT)
    site.routes["/referat"] = Route(status=302, location="/private/referat")
    settings = web_settings([{"url": site.url("/referat")}])
    report = run_fetch(settings)
    assert report.failed and "robots.txt" in report.failed[0]["error"]
    assert site.url("/private/referat") in report.failed[0]["error"]
    assert site.hits("/referat") == [302] and site.hits("/private/referat") == []
    assert copies(settings) == {}


def test_a_sitemap_brings_its_pages(site: Site, web_settings: Callable[..., Settings]) -> None:
    site.page("/a", "Side A", TEXT)
    site.page("/b", "Side B", TEXT.replace("Partnerskapsmøtet", "Ledermøtet"))
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url('/a')}</loc></url><url><loc>{site.url('/b')}</loc></url></urlset>"
    )
    site.routes["/sitemap.xml"] = Route(sitemap.encode(), content_type="application/xml")
    settings = web_settings([{"url": site.url("/sitemap.xml"), "sitemap": True, "kind": "side"}])
    report = run_fetch(settings)
    assert sorted(report.added) == [site.url("/a"), site.url("/b")]
    entries = read_manifest(documents_dir(settings))
    assert {e.fields["kind"] for e in entries.values()} == {"side"}


def test_following_a_section_stays_under_its_prefix_and_takes_linked_pdfs(
    site: Site, web_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "avtale.pdf", ["Samarbeidsavtale\n\nPubliser 2024. " + TEXT])
    site.routes["/filer/avtale.pdf"] = Route(pdf.read_bytes(), content_type="application/pdf")
    site.page("/hf/", "Helsefellesskap", TEXT, links=["/hf/utvalg", "/annet", "/filer/avtale.pdf"])
    site.page("/hf/utvalg", "Utvalg", TEXT.replace("Partnerskapsmøtet", "Utvalget"))
    site.page("/annet", "Annet", TEXT)
    settings = web_settings([{"url": site.url("/hf/"), "follow": True}])
    report = run_fetch(settings)
    assert sorted(report.added) == sorted(
        [site.url("/hf/"), site.url("/hf/utvalg"), site.url("/filer/avtale.pdf")]
    )
    assert site.hits("/annet") == []


def test_a_server_error_or_timeout_keeps_the_last_good_copy(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/om", "Om", TEXT)
    site.page("/treg", "Treg", TEXT.replace("Partnerskapsmøtet", "Ledermøtet"))
    settings = web_settings([{"url": site.url("/om")}, {"url": site.url("/treg")}])
    run_fetch(settings)
    before = copies(settings)

    site.routes["/om"].status = 500
    site.routes["/treg"].delay_s = 1.5  # over HFBOT_SOURCES_TIMEOUT=1
    report = run_fetch(settings)
    assert copies(settings) == before
    assert all((documents_dir(settings) / f).is_file() for f in before)
    errors = {f["url"]: f["error"] for f in report.failed}
    assert "HTTP 500" in errors[site.url("/om")] and "no answer" in errors[site.url("/treg")]
    assert site.hits("/om") == [200, 500, 500]  # one retry (HFBOT_SOURCES_RETRIES=1)
    state = load_state(settings.web_dir)[site.url("/om")]
    assert state.failure and state.failing_since and state.last_fetched <= state.failing_since


def test_a_page_gone_for_good_goes_only_after_the_set_number_of_fetches(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/om", "Om", TEXT)
    settings = web_settings([{"url": site.url("/om")}], HFBOT_SOURCES_REMOVE_AFTER=3)
    run_fetch(settings)
    site.routes["/om"].status = 404
    for _ in range(2):
        report = run_fetch(settings)
        assert copies(settings) and not report.removed
        assert "removed after 3" in report.failed[0]["error"]
    report = run_fetch(settings)
    assert report.removed == [site.url("/om")] and copies(settings) == {}


def test_a_page_that_shrinks_to_an_error_or_login_page_is_held_back(
    site: Site, web_settings: Callable[..., Settings]
) -> None:
    site.page("/om", "Om", TEXT * 3)
    settings = web_settings([{"url": site.url("/om")}], HFBOT_SOURCES_REMOVE_AFTER=2)
    run_fetch(settings)
    (copy,) = copies(settings)
    good = (documents_dir(settings) / copy).read_bytes()

    site.page("/om", "Feil", "Beklager, noe gikk galt. Prøv igjen senere.")
    report = run_fetch(settings)
    assert "shrank" in report.failed[0]["error"]
    assert (documents_dir(settings) / copy).read_bytes() == good

    site.routes["/om"] = Route(
        b'<html><body><form><input name="u"><input type="password" name="p">'
        b"<p>Logg inn for \xc3\xa5 lese helsefellesskapets sider. " + TEXT.encode() * 3 + b"</p>"
        b"</form></body></html>"
    )
    report = run_fetch(settings)
    assert "login" in report.failed[0]["error"]
    assert (documents_dir(settings) / copy).read_bytes() == good
