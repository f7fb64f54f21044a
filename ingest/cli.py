"""`hfbot ingest`: make the store mirror the corpus folder(s)."""

from __future__ import annotations

import json
import sys

import click

from hfbot.cli import settings_of


@click.command("ingest")
@click.argument("folders", nargs=-1, type=click.Path(file_okay=False, path_type=str))
@click.option("--rebuild", is_flag=True, help="Drop the store and ingest everything again.")
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--fetch", "fetch_first", is_flag=True, help="Fetch the web sources first.")
@click.pass_context
def ingest(
    ctx: click.Context,
    folders: tuple[str, ...],
    rebuild: bool,
    dry_run: bool,
    as_json: bool,
    fetch_first: bool,
) -> None:
    """Add, update and remove documents so the store mirrors FOLDER(s) (default: the corpus
    and the web documents `hfbot fetch` fetched)."""
    from ingest.pipeline import IngestBusy, IngestUsageError, run_ingest
    from ingest.store import StoreUnavailable

    settings = settings_of(ctx)
    fetched = None
    if fetch_first:
        if folders:
            raise click.UsageError("--fetch ingests the corpus folder: give no FOLDER")
        from ingest.web.cli import fetch_or_fail

        fetched = fetch_or_fail(ctx, as_json)
        if not as_json:
            click.echo(fetched.summary())
    try:
        report = run_ingest(
            settings,
            list(folders) or None,
            rebuild=rebuild,
            dry_run=dry_run,
            progress=sys.stderr.isatty() and not as_json,
        )
    except IngestUsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except (IngestBusy, StoreUnavailable) as exc:
        _fail(str(exc), as_json)
        return
    except Exception as exc:
        # The store going away mid-run: one clear line; the next run finishes the job.
        if not type(exc).__module__.startswith(("chromadb", "httpx", "httpcore")):
            raise
        _fail(f"the store failed during the ingest ({exc}); run it again when it is back", as_json)
        return
    if as_json:
        out = report.to_json()
        if fetched is not None:
            out["fetch"] = fetched.to_json()
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(report.summary())
    ctx.exit(report.exit_code)


def _fail(message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": message}, ensure_ascii=False))
    else:
        click.echo(f"Error: {message}", err=True)
    sys.exit(1)


COMMANDS = [ingest]
