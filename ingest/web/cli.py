"""`hfbot fetch`: bring the copies of the web sources in SOURCES.yaml up to date."""

from __future__ import annotations

import json

import click

from hfbot.cli import settings_of


@click.command("fetch")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def fetch(ctx: click.Context, as_json: bool) -> None:
    """Fetch the pages and files HFBOT_SOURCES_FILE lists into the data dir (then run
    `hfbot ingest`, or use `hfbot ingest --fetch` for both). Exit code 1 when a source failed."""
    report = fetch_or_fail(ctx, as_json)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        click.echo(report.summary())
    ctx.exit(1 if report.failed else 0)  # as `hfbot ingest` does for a file it cannot read


def fetch_or_fail(ctx: click.Context, as_json: bool):  # noqa: ANN201 - FetchReport, lazily imported
    """Run the fetch; a source list that cannot be read or a busy lock ends the command (1)."""
    from ingest.web.fetch import FetchBusy, run_fetch
    from ingest.web.refresh import fetch_turn
    from ingest.web.sources import SourcesError

    settings = settings_of(ctx)
    engine = None
    if (settings.database_url or "").startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(settings.database_url)  # the replicas' turn to fetch
    try:
        with fetch_turn(engine) as mine:
            if not mine:
                raise FetchBusy("another replica is fetching the web sources now")
            return run_fetch(settings)
    except (SourcesError, FetchBusy) as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc)}, ensure_ascii=False))
        else:
            click.echo(f"Error: {exc}", err=True)
        ctx.exit(1)
    finally:
        if engine is not None:
            engine.dispose()  # `ingest --fetch` goes on for minutes: no idle connection kept


COMMANDS = [fetch]
