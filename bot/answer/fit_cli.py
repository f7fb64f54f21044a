"""`hfbot fit`: refit the answer step's parameters (bot/answer/model.json) from question sets."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.answer.model import MODEL_FILE
from bot.cli import _EvalCommand, _warm, answerers_by_corpus, question_sets


def _restore_previous(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from bot.site_model import restore_previous
    from hfbot.cli import settings_of

    click.echo(restore_previous(settings_of(ctx)))
    ctx.exit(0)


@click.command(name="fit", cls=_EvalCommand)
@question_sets(required=False)
@click.option("--folds", default=5, show_default=True, help="Grouped folds for the CV figures.")
@click.option(
    "--with-site-labels",
    is_flag=True,
    help="Refit this site's model with its labels (Finn svaret) behind the guard: taken only "
    "when grouped CV holds on the reference sets (default: those the shipped model was "
    "fitted on) and improves on the labels. Stored in the bot's database, not in --out.",
)
@click.option(
    "--restore-previous",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_restore_previous,
    help="Put the site model before the current one back (or the shipped one) and exit.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=MODEL_FILE,
    show_default=True,
    help="Where the parameters go.",
)
@click.pass_context
def fit(
    ctx: click.Context,
    questions: tuple[Path, ...],
    corpus: tuple[str, ...],
    set_corpus: tuple[str, ...],
    folds: int,
    with_site_labels: bool,
    out: Path,
) -> None:
    """Fit the passage and refusal models on labelled question sets and write them.

    Reproduces the shipped parameters: `hfbot fit ../shared/eval/dev-questions.yaml
    ../shared/eval/dev-questions-2.yaml tests/answer/extra-questions.yaml --corpus corpus
    ../shared/eval/dev-corpus-2`. Prints the grouped cross-validation figures (no fold judged on
    documents its fit saw) beside the in-sample ones, and records both in the file.
    """
    from bot.answer.evaluate import QuestionSetError, load_question_sets
    from bot.answer.fit import collect_all_cases, cross_validate, fit_info

    if with_site_labels:
        _fit_site(ctx, questions, corpus, folds)
        return
    if not questions:
        raise click.UsageError("Missing argument 'QUESTIONS...'.")
    try:
        items = load_question_sets(questions)
    except QuestionSetError as exc:
        raise click.UsageError(str(exc)) from exc
    with answerers_by_corpus(ctx, items, questions, corpus, set_corpus, quiet=False) as stores:
        answerers = [(make(answer_model=None), subset) for make, subset, _ in stores]
        for answerer, _ in answerers:
            _warm(answerer)
        cases = collect_all_cases(answerers, items)
        answerer = answerers[0][0]
        cv = cross_validate(answerer, items, folds, on_fold=_show_fold, cases=cases)
        model = cv.full
        assert model is not None
        info = fit_info(answerer, items, [str(q) for q in questions], corpus)
        info["set_corpora"] = list(set_corpus)
        model.info.update(info)
    summary = cv.summary()
    model.info["cross_validation"] = {
        "folds": summary["folds"],
        "group_by": "document",
        "pooled": _figures(summary["pooled"]),
        "sets": {name: _figures(s) for name, s in summary["sets"].items()},
        "per_fold": summary["per_fold"],
        "in_sample": _figures(summary["in_sample"]),
        "in_sample_sets": {name: _figures(s) for name, s in summary["in_sample_sets"].items()},
    }
    model.save(out)
    click.echo(json.dumps(model.info["cross_validation"], indent=1))
    click.echo(f"Wrote {out} (threshold {model.threshold:.3f}).")


def _show_fold(figures) -> None:
    s = figures.report.summary()
    click.echo(
        f"fold {figures.fold}: {s['passed']}/{s['questions']} passed, "
        f"lead {s['lead_accuracy']}, answer {s['answer_accuracy']}, "
        f"refused {s['false_abstentions']} answerable",
        err=True,
    )


def _fit_site(
    ctx: click.Context, questions: tuple[Path, ...], corpus: tuple[str, ...], folds: int
) -> None:
    from bot.site_model import run_site_refit
    from hfbot.cli import settings_of

    decision = run_site_refit(
        settings_of(ctx),
        questions=[str(q) for q in questions],
        corpora=list(corpus),
        created_by="terminal",
        folds=folds,
        progress=lambda line: click.echo(line, err=True),
    )
    click.echo(decision.summary())
    if decision.taken:
        click.echo("Den nye modellen svarer nå (`hfbot fit --restore-previous` angrer).")


def _figures(summary: dict) -> dict:
    keys = (
        "questions",
        "passed",
        "answer_accuracy",
        "lead_accuracy",
        "span_exact",
        "span_f1",
        "bold_share",
        "abstention_accuracy",
        "unanswerable_refused",
        "unanswerable",
        "false_abstentions",
    )
    return {k: summary[k] for k in keys}


COMMANDS = [fit]
