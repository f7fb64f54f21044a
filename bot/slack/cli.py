"""`hfbot serve` (the Slack bot), `hfbot feedback` (answers that got 👎) and `hfbot report`
(the secretariat's report)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import click

from hfbot.cli import settings_of

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Interface to listen on [HFBOT_HOST, 0.0.0.0].")
@click.option("--port", default=None, type=int, help="Port to listen on [HFBOT_PORT, 3000].")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on /slack/events."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError
    from sqlalchemy.exc import SQLAlchemyError

    from bot.slack.app import SlackConfigError, api_base_url, build_app
    from bot.slack.server import serve_http, serve_socket_mode

    settings = settings_of(ctx)
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    # The bot's own log lines (answers, failures and their causes) belong in the service log.
    for name in ("bot", "ingest", "slack_bolt"):
        if logging.getLogger(name).getEffectiveLevel() > logging.INFO:
            logging.getLogger(name).setLevel(logging.INFO)
    if not settings.slack_bot_token:
        raise click.UsageError("SLACK_BOT_TOKEN is not set (Slack app → OAuth & Permissions).")
    socket_mode = bool(settings.slack_app_token)
    if not socket_mode and not settings.slack_signing_secret:
        raise click.UsageError(
            "Set SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET for HTTP mode "
            "(Slack app → Basic Information)."
        )
    try:
        api_base_url(settings)
    except SlackConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    from bot.answering import Answerer
    from bot.site_store import SiteModels
    from bot.slack.feedback import FeedbackStore
    from bot.slack.retention import RetentionJob

    # Opens nothing yet; answers with the site's refitted model once one is active.
    answerer = Answerer(settings, site_models=SiteModels.from_settings(settings))
    try:
        feedback_store = FeedbackStore.from_settings(settings)
        app = build_app(settings, answerer, feedback=feedback_store, socket_mode=socket_mode)
    except SlackConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot open the bot's database: {exc}") from exc
    except (BoltError, SlackApiError, OSError) as exc:
        # auth.test at start: a wrong token or an unreachable SLACK_API_URL ends here.
        raise click.ClickException(
            f"cannot reach Slack with SLACK_BOT_TOKEN at {api_base_url(settings)}: {exc}"
        ) from exc
    _prepare(settings, answerer)
    # HFBOT_RETENTION_DAYS: old questions, answers and feedback go now and once a day.
    RetentionJob(feedback_store, settings.retention_days).start()
    # HFBOT_SOURCES_REFRESH_HOURS: the web sources are fetched (and ingested when changed).
    from ingest.pipeline import run_ingest
    from ingest.web.refresh import SourcesRefreshJob

    SourcesRefreshJob(settings, feedback_store.engine, lambda: run_ingest(settings)).start()
    if socket_mode:
        try:
            serve_socket_mode(app, settings.slack_app_token or "", host, port)
        except SlackApiError as exc:
            raise click.ClickException(
                f"Socket Mode could not connect ({exc.response.get('error')}): check "
                "SLACK_APP_TOKEN (an xapp- token with connections:write)"
            ) from exc
    else:
        serve_http(app, host, port)


def _prepare(settings, answerer) -> None:  # type: ignore[no-untyped-def]
    """Ingest the corpus on a fresh data dir and load the model before the first question."""
    from ingest.pipeline import ensure_ingested
    from ingest.store import StoreUnavailable

    try:
        report = ensure_ingested(settings, store=answerer.store, embedder=answerer.embedder)
        if report is not None:
            log.info("ingested the corpus on first start: %s", report.summary())
        answerer.warm_up()  # load the model and lexical index before the first question
    except StoreUnavailable as exc:
        # The bot still starts: users get a clear message until the store is back.
        log.error("store unavailable at start: %s", exc)


@click.command()
@click.option("--limit", default=50, show_default=True, type=int, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def feedback(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List the questions whose answers got 👎, newest first, with the answers."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.slack.feedback import FeedbackStore

    try:
        store = FeedbackStore.from_settings(settings_of(ctx))
        try:
            down = store.downvoted(limit=limit)
        finally:
            store.close()
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read the bot's database: {exc}") from exc
    if as_json:
        click.echo(
            json.dumps(
                {
                    "downvoted": [
                        {
                            "voted_at": datetime.fromtimestamp(v.voted_at).isoformat(
                                timespec="seconds"
                            ),
                            "user": v.user_id,
                            "channel": v.answer.channel,
                            "question": v.answer.question,
                            "answer": v.answer.answer,
                            "abstained": v.answer.abstained,
                            "sources": [c.get("file") for c in v.answer.citations],
                        }
                        for v in down
                    ]
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not down:
        click.echo("No answers have got 👎.")
        return
    for vote in down:
        when = datetime.fromtimestamp(vote.voted_at).strftime("%Y-%m-%d %H:%M")
        question = vote.answer.question or "(question text not stored)"
        click.echo(f"👎 {when}  {vote.user_id} in {vote.answer.channel}")
        click.echo(f"  Q: {question}")
        for line in vote.answer.answer.splitlines() or [""]:
            click.echo(f"  A: {line}")
        files = ", ".join(str(c.get("file")) for c in vote.answer.citations)
        if files:
            click.echo(f"  sources: {files}")
        click.echo("")


@click.command()
@click.option(
    "--days",
    default=30,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="Unanswered questions and 👎 from this many days back.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def report(ctx: click.Context, days: int, as_json: bool) -> None:
    """The secretariat's report: the corpus, unanswered questions, 👎 answers, open escalations."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.report import QuestionGrouper, build_report
    from bot.report_text import render_text
    from bot.slack.feedback import FeedbackStore
    from ingest import runlog
    from ingest.embedder import make_embedder, store_model
    from ingest.store import Store, StoreUnavailable

    settings = settings_of(ctx)
    try:
        store: Store | None = Store.open(settings)
        store_error: StoreUnavailable | None = None
    except StoreUnavailable as exc:  # the database half of the report still helps
        store, store_error = None, exc

    def documents() -> dict:
        if store is None:
            raise store_error or StoreUnavailable("no store")
        return store.documents()

    try:
        feedback_store = FeedbackStore.from_settings(settings)
        try:
            made = build_report(
                settings,
                feedback_store,
                documents=documents,
                last_ingest=runlog.last_run(settings, store),
                # The model loads only when there are different questions to compare.
                grouper=QuestionGrouper(make_embedder(settings)),
                days=days,
                embedding_model=lambda: store_model(settings, store) if store else None,
            )
        finally:
            feedback_store.close()
            if store is not None:
                store.close()
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read the bot's database: {exc}") from exc
    if as_json:
        click.echo(json.dumps(made.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(made))


COMMANDS = [serve, feedback, report]
