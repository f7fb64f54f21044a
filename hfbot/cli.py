"""The `hfbot` command: one entry point for every job."""

from __future__ import annotations

import logging
import sys

import click
from pydantic import ValidationError

from hfbot.network import keep_loopback_direct
from hfbot.settings import Settings, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """hfbot: answers about Helsefellesskap Vest-Viken, from its documents."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    keep_loopback_direct()
    try:
        ctx.obj = load_settings()
    except ValidationError as exc:
        raise click.ClickException(settings_problems(exc)) from None


def settings_problems(exc: ValidationError) -> str:
    """What is wrong with the settings, one line per setting, named as the environment has it
    (rather than pydantic's traceback)."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "settings"
        lines.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj


def _register() -> None:
    # Each command lives beside the code it drives; imports stay light until a command runs.
    from importlib import import_module

    commands = (
        "ingest.cli",
        "ingest.web.cli",
        "bot.cli",
        "bot.answer.fit_cli",
        "bot.labels_cli",
        "bot.slack.cli",
        "hfbot.doctor",
    )
    for module in commands:
        try:
            mod = import_module(module)
        except ModuleNotFoundError as exc:
            # A command module not written yet is fine; a broken import inside one is not.
            if not module.startswith(exc.name or "\0"):
                raise
            continue
        for command in getattr(mod, "COMMANDS", []):
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="hfbot")


if __name__ == "__main__":
    main()
