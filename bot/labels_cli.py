"""`hfbot labels list|export|import`: the site's labels as a question set in the terminal.

An export is a question set in the eval format, so `hfbot eval FILE.yaml` runs it and `hfbot
fit` learns from it; an import reads an export (or any eval question set) back into the
database. Both say which labels name a passage the store no longer holds.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from hfbot.cli import settings_of


def _labels(ctx: click.Context):
    from sqlalchemy.exc import SQLAlchemyError

    from bot.site_store import LabelStore

    try:
        return LabelStore.from_settings(settings_of(ctx))
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot open the bot's database: {exc}") from exc


def _report_missing(ctx: click.Context, labels) -> list:
    """Warn about labels whose passage is gone from the store (they are left out of a fit)."""
    from bot.site_labels import describe_missing, missing_passages
    from ingest.store import Store, StoreUnavailable

    if not any(label.passages for label in labels):
        return []
    try:
        with Store.open(settings_of(ctx)) as store:
            chunks = store.live_chunks()
    except StoreUnavailable as exc:
        click.echo(f"Kunne ikke sjekke utdragene mot dokumentlageret: {exc}", err=True)
        return []
    missing = missing_passages(labels, chunks)
    if missing:
        click.echo(
            f"{len(missing)} merkede utdrag finnes ikke lenger i dokumentene (brukes ikke når "
            "svarmodellen tilpasses; merk spørsmålet på nytt):",
            err=True,
        )
        for item in missing:
            click.echo(f"  {describe_missing(item)}", err=True)
    return missing


@click.group()
def labels() -> None:
    """The site's labelled questions (made with "Finn svaret" in Slack)."""


@labels.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the labels, oldest first."""
    store = _labels(ctx)
    try:
        found = store.all()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([x.to_entry() for x in found], ensure_ascii=False, indent=1))
        return
    if not found:
        click.echo("Ingen merkede spørsmål ennå.")
        return
    for label in found:
        when = datetime.fromtimestamp(label.created_at).strftime("%Y-%m-%d %H:%M")
        what = "står ikke i dokumentene" if label.unanswerable else ", ".join(label.files)
        click.echo(f"{label.id[:8]} {when} {label.created_by or '-'}: «{label.question}» → {what}")
    click.echo(f"{len(found)} merkede spørsmål.")
    _report_missing(ctx, found)


@labels.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, file: Path) -> None:
    """Write the labels to FILE.yaml as a question set (`hfbot eval FILE.yaml` runs it)."""
    from bot.site_labels import write_labels

    store = _labels(ctx)
    try:
        found = store.all()
    finally:
        store.close()
    count = write_labels(found, file)
    click.echo(f"Skrev {count} merkede spørsmål til {file}.")
    _report_missing(ctx, found)


@labels.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, file: Path) -> None:
    """Read labels from FILE.yaml (an export or an eval question set); same id: replaced."""
    from bot.site_labels import LabelFileError, read_labels

    try:
        found = read_labels(file)
    except LabelFileError as exc:
        raise click.UsageError(str(exc)) from exc
    store = _labels(ctx)
    try:
        for label in found:
            store.add(label)
    finally:
        store.close()
    click.echo(f"Leste inn {len(found)} merkede spørsmål fra {file}.")
    _report_missing(ctx, found)


COMMANDS = [labels]
