"""`hfbot ask`, `hfbot chat` and `hfbot eval`: the read path on a terminal."""

from __future__ import annotations

import contextlib
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
    from ingest.embedder import embedder_for_store
    from ingest.store import Store, StoreUnavailable

    settings = settings_of(ctx)
    try:
        from ingest.pipeline import ensure_ingested

        store = Store.open(settings)
        # The store's own model when the setting changed since it was built (a warning says
        # so); the model loads once, on first use, for both jobs.
        embedder = embedder_for_store(settings, store)
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
    from bot.site_store import SiteModels

    # The site's refitted answer model when one is active (as the Slack bot answers).
    site_models = SiteModels.from_settings(settings)
    return Answerer(settings, store=store, embedder=embedder, site_models=site_models)


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
            when = when or " (udatert)"
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


class _EvalCommand(click.Command):
    """`--corpus A B` takes every folder up to the next option: `hfbot eval Q1.yaml Q2.yaml
    --corpus A B` (click options take one value each; a repeated --corpus works too)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_option(args, "--corpus"))


def spread_option(args: list[str], name: str) -> list[str]:
    """`NAME a b` -> `NAME a NAME b`: the values up to the next option, `--` or existing file."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            out.extend(args[i - 1 :])
            break
        if arg != name:
            out.append(arg)
            continue
        values: list[str] = []
        # A file after the folders is a question file put last, not a folder.
        while i < len(args) and not args[i].startswith("-") and not Path(args[i]).is_file():
            values.append(args[i])
            i += 1
        if not values:
            out.append(arg)  # click says what is missing
        for value in values:
            out += [name, value]
    return out


def question_sets(command=None, *, required: bool = True):
    """The question files and `--corpus DIR…` that eval and fit share."""
    if command is None:
        return lambda command: question_sets(command, required=required)
    command = click.option(
        "--set-corpus",
        multiple=True,
        metavar="FILE=DIR[,DIR]",
        help="Ask one question file against these folders only, in a cached store of their "
        "own (e.g. NorQuAD's questions against its documents, the domain sets against theirs).",
    )(command)
    command = click.option(
        "--corpus",
        multiple=True,
        metavar="DIR...",
        help="Answer from these folders, ingested together into a cached store of their own "
        "(never the data dir); a second run over the same files embeds nothing.",
    )(command)
    return click.argument(
        "questions",
        nargs=-1,
        required=required,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
    )(command)


@click.command(name="eval", cls=_EvalCommand)
@question_sets
@click.option(
    "--folds",
    type=click.IntRange(min=0),
    default=0,
    help="Also cross-validate the fitted answer step: K folds, each answered by a model "
    "fitted without the fold's documents (the figure to trust).",
)
@click.option(
    "--group-by",
    type=click.Choice(["document"]),
    default="document",
    show_default=True,
    help="What no fold may share with its fit.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_(
    ctx: click.Context,
    questions: tuple[Path, ...],
    corpus: tuple[str, ...],
    set_corpus: tuple[str, ...],
    folds: int,
    group_by: str,
    as_json: bool,
) -> None:
    """Run question sets (YAML) and report accuracy, retrieval and latency, per file and in total.

    A failed question names the step that failed: retrieval, refusal, selection or citation.
    """
    from bot.answer.evaluate import (
        EvalReport,
        QuestionSetError,
        failure_counts,
        load_question_sets,
        run_eval,
        summary_line,
    )
    from ingest.store import StoreUnavailable

    try:
        items = load_question_sets(questions)
    except QuestionSetError as exc:
        raise click.UsageError(str(exc)) from exc
    several = len(questions) > 1
    shown: set[str] = set()

    def show(result) -> None:
        if as_json:
            return
        if several and result.item.set_name not in shown:
            shown.add(result.item.set_name)
            click.echo(f"== {result.item.set_name}")
        if result.passed:
            click.echo(f"PASS {result.item.id} {result.item.question}")
            return
        click.echo(f"FAIL {result.item.id} [{result.failure}] {result.item.question}")
        first = result.answer.strip().splitlines()[0] if result.answer.strip() else ""
        click.echo(f"      must={list(result.item.must)} got: {first[:160]}")

    with answerers_by_corpus(ctx, items, questions, corpus, set_corpus, quiet=as_json) as stores:
        answerers = [(new_answerer(), subset) for new_answerer, subset, _ in stores]
        about = stores[0][2] if len(stores) == 1 else [a for _, _, a in stores]
        report = EvalReport()
        try:
            for answerer, subset in answerers:
                _warm(answerer)
                report.results += run_eval(answerer, subset, on_result=show).results
            cv = _cross_validate(answerers, items, folds, quiet=as_json) if folds else None
        except StoreUnavailable as exc:
            raise click.ClickException(_store_message(exc)) from exc
    summary = report.summary()
    if as_json:
        data = report.to_json()
        if about:
            data["corpus"] = about
        if cv is not None:
            data["cross_validation"] = {"group_by": group_by, **cv.summary()}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo("")
    for key, value in summary.items():
        shown_value = failure_counts(value) if key == "failures" else value
        click.echo(f"{key:>22}: {shown_value}")
    click.echo("")
    lines = [*report.summaries().items(), ("total", summary)]
    width = max(len(name) for name, _ in lines)
    for name, figures in lines:
        click.echo(f"{name:<{width}}  {summary_line(figures)}")
    if cv is not None:
        _show_cross_validation(cv, group_by)


def _cross_validate(answerers: list, items, folds: int, *, quiet: bool):
    """Grouped K-fold figures of the fitted answer step over these questions (each retrieved
    from its own store, once)."""
    from bot.answer.fit import collect_all_cases, cross_validate

    cases = collect_all_cases(answerers, items)

    def show(fold) -> None:
        if not quiet:
            s = fold.report.summary()
            click.echo(
                f"fold {fold.fold}: {s['passed']}/{s['questions']} passed, "
                f"answer {s['answer_accuracy']}, refused {s['unanswerable_refused']}/"
                f"{s['unanswerable']} unanswerable",
                err=True,
            )

    return cross_validate(answerers[0][0], items, folds, on_fold=show, cases=cases)


def _show_cross_validation(cv, group_by: str) -> None:
    from bot.answer.evaluate import summary_line

    summary = cv.summary()
    click.echo("")
    click.echo(
        f"Cross-validated answer step ({summary['folds']} folds, grouped by {group_by}: "
        "no fold is judged on documents its fit saw):"
    )
    per_fold = summary["per_fold"]["answer_accuracy"]
    click.echo(
        f"  held-out   {summary_line(summary['pooled'])}; "
        f"answer per fold {per_fold['mean']} ± {per_fold['sd']}"
    )
    click.echo(f"  in-sample  {summary_line(summary['in_sample'])}")
    sets = cv.pooled.summaries()
    if len(sets) > 1:
        width = max(len(name) for name in sets)
        for name, figures in sets.items():
            click.echo(f"  held-out {name:<{width}}  {summary_line(figures)}")


@contextlib.contextmanager
def answerers_by_corpus(
    ctx: click.Context,
    items: list,
    questions: tuple[Path, ...],
    corpus: tuple[str, ...],
    set_corpus: tuple[str, ...],
    *,
    quiet: bool,
):
    """[(answerer factory, its questions, what its store holds)]: each question file answered
    from its own folders when --set-corpus names them, the others from --corpus."""
    own: dict[str, tuple[str, ...]] = {}
    names = {p.name for p in questions}
    for entry in set_corpus:
        file, _, folders = entry.partition("=")
        if not folders or Path(file).name not in names:
            raise click.UsageError(
                f"--set-corpus {entry!r}: expected FILE=DIR[,DIR] naming one of the question files"
            )
        own[Path(file).name] = tuple(f for f in folders.split(",") if f)
    by_corpus: dict[tuple[str, ...], list] = {}
    for item in items:
        folders = own.get(Path(item.set_name).name, corpus)
        by_corpus.setdefault(folders, []).append(item)
    with contextlib.ExitStack() as stack:
        out = []
        for folders, subset in by_corpus.items():
            new_answerer, about = stack.enter_context(_eval_answerers(ctx, folders, quiet=quiet))
            out.append((new_answerer, subset, about))
        yield out


@contextlib.contextmanager
def _eval_answerers(ctx: click.Context, corpus: tuple[str, ...], *, quiet: bool):
    """(a factory of Answerers over the store the eval answers from, what that store holds).

    With --corpus, the folders' cached store (see bot.answer.eval_store); else the user's
    store. Every answerer shares that one store and model: answerers with other parameters cost
    no ingest.
    """
    from bot.answering import Answerer

    if not corpus:
        base = _answerer(ctx, quiet=quiet)

        def over_user_store(**options):
            return Answerer(base.settings, store=base.store, embedder=base.embedder, **options)

        yield over_user_store, None
        return

    from bot.answer.eval_store import EvalCorpusError, open_eval_store
    from ingest.pipeline import IngestBusy, IngestUsageError
    from ingest.store import StoreUnavailable

    try:
        opened = open_eval_store(
            settings_of(ctx), corpus, progress=not quiet and sys.stderr.isatty()
        )
    except EvalCorpusError as exc:
        raise click.UsageError(str(exc)) from exc
    except (IngestBusy, IngestUsageError, StoreUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    report = opened.report
    failed = list(report.failed) if report is not None else []
    about = {
        "folders": [str(Path(f).expanduser().resolve()) for f in corpus],
        "store": str(opened.path),
        "reused": opened.reused,
        "documents": len(opened.store.documents()),
        "failed": failed,
    }
    if not quiet:
        if report is None:
            how = "lest inn tidligere"
        else:
            how = f"leste inn {report.chunks} tekstbiter nå, {report.seconds:.1f} s"
        click.echo(
            f"Evaluerer mot {about['documents']} dokumenter i {opened.path} ({how}).", err=True
        )
    for failure in failed:
        click.echo(f"FAILED {failure['file']}: {failure['error']}", err=True)
    try:
        yield opened.answerer, about
    finally:
        opened.close()


def _warm(answerer) -> None:
    """Load the model and the lexical index before timing anything."""
    from ingest.store import StoreUnavailable

    try:
        answerer.warm_up()
    except StoreUnavailable as exc:
        raise click.ClickException(_store_message(exc)) from exc


COMMANDS = [ask, chat, eval_]
