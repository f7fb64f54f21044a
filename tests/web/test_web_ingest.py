"""Fetched pages and PDFs are ingested with the corpus, answered from with their links, dated by
what they say themselves, and kept answerable through a failing server."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from bot.answering import Answerer
from hfbot.cli import cli
from hfbot.settings import Settings
from ingest.pipeline import run_ingest
from ingest.store import Store
from ingest.web.fetch import run_fetch
from tests.fakes import FakeEmbedder
from tests.ingest.conftest import make_pdf
from tests.web.conftest import Route, Site

ABOUT = (
    "Strategisk samarbeidsutvalg leder arbeidet i helsefellesskapet mellom partnerskapsmøtene. "
    "Utvalget har ti medlemmer, fem fra kommunene og fem fra Vestre Viken HF.\n\n"
    "Sekretariatet forbereder sakene til utvalget og følger opp vedtakene."
)
KAD = (
    "Kommunale akutte døgnplasser (KAD) gir innbyggerne et tilbud nær hjemmet når de trenger "
    "observasjon og behandling, men ikke innleggelse i sykehus.\n\n"
    "Legevakten og fastlegen kan legge inn pasienter på KAD-plassene i kommunen."
)
AGREEMENT = (
    "Overordnet samarbeidsavtale\nPublisert 12.03.2024\n\n"
    "Avtalen mellom Vestre Viken HF og kommunene regulerer samarbeidet om pasientforløp, "
    "utskrivningsklare pasienter og felles planlegging av tjenestene."
)


class _Recording(FakeEmbedder):
    """Remembers what it embedded, to tell which pages an ingest re-embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(
        self, texts: Sequence[str], show_progress: bool = False
    ) -> list[list[float]]:
        self.texts.extend(texts)
        return super().embed_documents(texts, show_progress)


def _site(site: Site, tmp_path: Path) -> list[dict[str, object]]:
    site.page(
        "/utvalg",
        "Strategisk samarbeidsutvalg",
        ABOUT,
        etag='"u1"',
        meta='<meta property="article:published_time" content="2025-02-03">',
    )
    # No date of its own: the server's Last-Modified is all there is.
    site.page("/kad", "KAD-plasser", KAD, last_modified="Tue, 04 Nov 2025 10:00:00 GMT")
    pdf = make_pdf(tmp_path / "avtale.pdf", [AGREEMENT])
    site.routes["/avtale.pdf"] = Route(pdf.read_bytes(), content_type="application/pdf")
    return [
        {"url": site.url("/utvalg")},
        {"url": site.url("/kad"), "kind": "web page"},
        {"url": site.url("/avtale.pdf"), "title": "Overordnet samarbeidsavtale"},
    ]


def test_fetched_documents_are_answered_with_their_links_and_trusted_dates(
    site: Site, web_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = web_settings(_site(site, tmp_path))
    (settings.corpus_dir / "lokal.txt").write_text("Et lokalt notat om møteplanen.\n")
    embedder = FakeEmbedder()
    run_fetch(settings)
    report = run_ingest(settings, embedder=embedder)
    assert report.added == 4 and not report.failed, report.summary()

    answer = Answerer(settings, embedder=embedder).answer(
        "Hvem leder arbeidet mellom partnerskapsmøtene?"
    )
    assert not answer.abstained
    assert answer.citations[0].url == site.url("/utvalg")

    with Store.open(settings) as store:
        docs = {d.meta.url: d.meta for d in store.documents().values() if d.meta.url}
    utvalg, kad, pdf = (
        docs[site.url("/utvalg")],
        docs[site.url("/kad")],
        docs[site.url("/avtale.pdf")],
    )
    assert utvalg.date == date(2025, 2, 3) and utvalg.stated_date == date(2025, 2, 3)
    assert pdf.date == date(2024, 3, 12) and pdf.title == "Overordnet samarbeidsavtale"
    # The web server's clock dates it, approximately, and never makes it the newest.
    assert kad.date == date(2025, 11, 4) and kad.date_approximate and kad.stated_date is None
    assert kad.kind == "web page"


def test_an_edited_page_is_the_only_one_re_embedded_and_a_dead_server_costs_nothing(
    site: Site, web_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = web_settings(_site(site, tmp_path))
    embedder = _Recording()
    run_fetch(settings)
    run_ingest(settings, embedder=embedder)

    site.page("/kad", "KAD-plasser", KAD + "\n\nFra 2026 har Drammen tolv KAD-plasser.")
    fetched = run_fetch(settings)
    assert fetched.updated == [site.url("/kad")] and fetched.unchanged == 2
    embedder.texts.clear()
    report = run_ingest(settings, embedder=embedder)
    assert report.updated == 1 and report.unchanged == 2 and report.added == 0
    assert len(report.documents["updated"]) == 1 and "kad" in report.documents["updated"][0]
    # Only the edited page is embedded again (its chunks, then their units).
    assert embedder.texts and all(
        "KAD" in text or "Legevakten" in text or "tolv" in text or "observasjon" in text
        for text in embedder.texts
    ), embedder.texts
    assert not any("utvalg" in text or "Avtalen" in text for text in embedder.texts)
    answer = Answerer(settings, embedder=embedder).answer("Hvor mange KAD-plasser har Drammen?")
    assert "tolv" in answer.text

    for route in site.routes.values():
        route.status = 500
    fetched = run_fetch(settings)
    assert len(fetched.failed) == 3 and not fetched.removed
    report = run_ingest(settings, embedder=embedder)
    assert report.removed == 0 and report.unchanged == 3
    answer = Answerer(settings, embedder=embedder).answer(
        "Hvem leder arbeidet mellom partnerskapsmøtene?"
    )
    assert answer.citations and answer.citations[0].url == site.url("/utvalg")


def test_ingest_fetch_fetches_then_ingests_in_one_run(
    site: Site, web_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    web_settings(_site(site, tmp_path))
    result = CliRunner().invoke(cli, ["ingest", "--fetch", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert len(out["fetch"]["added"]) == 3
    assert sorted(out["documents"]["added"])[0].startswith("web:")
    assert out["added"] == 3

    result = CliRunner().invoke(cli, ["fetch"])
    assert result.exit_code == 0 and "3 unchanged" in result.output
