"""`hfbot ask`, `hfbot chat` and `hfbot eval`: the read path on a terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.types import Answer, Turn
from hfbot.cli import settings_of

MAX_HISTORY_TURNS = 10


def _answerer(ctx: click.Context, *, quiet: bool = False):
    """An Answerer over a store that holds the corpus (ingesting it first on a fresh data dir)."""
    from bot.answering import Answerer
    from ingest.embedder import make_embedder
    from ingest.store import Store, StoreUnavailable

    settings = settings_of(ctx)
    embedder = make_embedder(settings)  # the model loads once, on first use, for both jobs
    try:
        from ingest.pipeline import ensure_ingested

        store = Store.open(settings)
        report = ensure_ingested(
            settings, store=store, embedder=embedder, progress=not quiet and sys.stderr.isatty()
        )
        if report is not None and not quiet:
            click.echo(
                f"Leste inn {report.chunks} tekstbiter fra {report.added} dokumenter "
                f"({report.seconds:.1f} s).",
                err=True,
            )
    except StoreUnavailable as exc:
        raise click.ClickException(_store_message(exc)) from exc
    return Answerer(settings, store=store, embedder=embedder)


def _store_message(exc: Exception) -> str:
    return f"Dokumentlageret er ikke tilgjengelig: {exc}"


def _run(answerer, question: str, history=()):
    from ingest.store import StoreUnavailable

    try:
        return answerer.run(question, history)
    except StoreUnavailable as exc:
        raise click.ClickException(_store_message(exc)) from exc


def render(answer: Answer) -> str:
    """The answer and its sources, for a terminal."""
    lines = [answer.text.strip()]
    sources = answer.citations or answer.closest
    if answer.citations:
        lines.append("")
        lines.append("Kilder:")
        for c in sources:
            where = f", {c.location}" if c.location else ""
            when = f" ({c.date}{', omtrentlig' if c.date_approximate else ''})" if c.date else ""
            lines.append(f"[{c.n}] {c.title}{when}{where}")
            lines.append(f"    {c.url or c.file}")
    return "\n".join(lines)


def _json_answer(answer: Answer) -> dict:
    data = answer.to_json()
    return {
        "question": data["question"],
        "answer": data["answer"],
        "abstained": data["abstained"],
        "citations": data["citations"],
        "timings_ms": {k: round(answer.timings_ms.get(k, 0.0), 1) for k in _TIMINGS},
    }


_TIMINGS = ("retrieve", "answer", "total")


@click.command()
@click.argument("question", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def ask(ctx: click.Context, question: tuple[str, ...], as_json: bool) -> None:
    """Answer QUESTION from the documents, with sources."""
    text = " ".join(question)
    answerer = _answerer(ctx, quiet=as_json)
    result = _run(answerer, text)
    if as_json:
        click.echo(json.dumps(_json_answer(result.answer), ensure_ascii=False, indent=2))
    else:
        click.echo(render(result.answer))


@click.command()
@click.pass_context
def chat(ctx: click.Context) -> None:
    """An interactive conversation: follow-up questions see the earlier ones. Ctrl-D ends it."""
    interactive = sys.stdin.isatty()
    answerer = _answerer(ctx, quiet=not interactive)
    history: list[Turn] = []
    if interactive:
        click.echo("Still et spørsmål om Helsefellesskap Vest-Viken (Ctrl-D for å avslutte).")
    while True:
        if interactive:
            click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question.lower() in {"exit", "quit", "avslutt", "/q"}:
            break
        result = _run(answerer, question, history)
        if not interactive:
            click.echo(f"> {question}")
        click.echo(render(result.answer))
        click.echo("")
        history.extend([Turn("user", question), Turn("assistant", result.answer.text)])
        history = history[-2 * MAX_HISTORY_TURNS :]


@click.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_(ctx: click.Context, questions: Path, as_json: bool) -> None:
    """Run a question set (YAML) and report accuracy, retrieval and latency figures."""
    from bot.evaluate import QuestionSetError, load_questions, run_eval

    try:
        items = load_questions(questions)
    except QuestionSetError as exc:
        raise click.UsageError(str(exc)) from exc
    answerer = _answerer(ctx, quiet=as_json)
    _warm(answerer)

    def show(result) -> None:
        if as_json:
            return
        mark = "PASS" if result.passed else "FAIL"
        click.echo(f"{mark} {result.item.id} {result.item.question}")
        if not result.passed:
            first = result.answer.strip().splitlines()[0] if result.answer.strip() else ""
            click.echo(f"      must={list(result.item.must)} got: {first[:160]}")

    from ingest.store import StoreUnavailable

    try:
        report = run_eval(answerer, items, on_result=show)
    except StoreUnavailable as exc:
        raise click.ClickException(_store_message(exc)) from exc
    summary = report.summary()
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo("")
    for key, value in summary.items():
        click.echo(f"{key:>22}: {value}")


def _warm(answerer) -> None:
    """Load the model and the lexical index before timing anything."""
    from ingest.store import StoreUnavailable

    try:
        answerer.warm_up()
    except StoreUnavailable as exc:
        raise click.ClickException(_store_message(exc)) from exc


COMMANDS = [ask, chat, eval_]
