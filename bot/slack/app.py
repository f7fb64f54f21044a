"""Build the slack-bolt App: a WebClient on SLACK_API_URL with retries, middleware, listeners."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack.dedupe import EventDeduper, dedupe_middleware
from bot.slack.deps import AnswererLike, BotDeps
from bot.slack.feedback import FeedbackStore
from bot.slack.listeners import register_listeners
from bot.slack.proxies import direct_connections_middleware, proxy_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from hfbot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
# Enough threads that 20 questions at once are all worked on; acks never wait for these threads
# (process_before_response=True acks in the request thread, work runs in lazy listeners).
LISTENER_THREADS = 24


class SlackConfigError(ValueError):
    """The Slack settings cannot work (missing token, bad SLACK_API_URL, …)."""


def api_base_url(settings: Settings) -> str:
    """SLACK_API_URL normalised: slack_sdk joins method names onto it, so it must end in /api/."""
    url = (settings.slack_api_url or DEFAULT_API_URL).strip()
    if not url.endswith("/"):
        url += "/"
    if not url.endswith("/api/") or urlsplit(url).scheme not in ("http", "https"):
        raise SlackConfigError(
            f"SLACK_API_URL must be an http(s) URL ending in /api/ (got {settings.slack_api_url!r})"
        )
    return url


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient on SLACK_API_URL that retries rate limits (429 + Retry-After) and outages."""
    base_url = api_base_url(settings)
    client = WebClient(
        token=token or settings.slack_bot_token,
        base_url=base_url,
        timeout=30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
    client.proxy = proxy_for(base_url)
    return client


def build_app(
    settings: Settings,
    answerer: AnswererLike,
    client: WebClient | None = None,
    *,
    feedback: FeedbackStore | None = None,
    socket_mode: bool = False,
    run_ingest: Callable[[], object] | None = None,
    fetch_sources: Callable[[], object] | None = None,
    documents: Callable[[], dict] | None = None,
    corpus_version: Callable[[], str] | None = None,
    stream_interval_s: float = 1.0,
) -> App:
    """The Bolt app with every hfbot listener registered.

    `run_ingest`, `fetch_sources`, `documents` and `corpus_version` default to the configured
    store, ingest pipeline and web sources; tests pass their own (e.g. an ingest with a fake
    embedder).
    """
    if not settings.slack_bot_token and client is None:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set (Slack app → OAuth & Permissions)")
    if not socket_mode and not settings.slack_signing_secret:
        raise SlackConfigError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify that requests come "
            "from Slack (Slack app → Basic Information), or set SLACK_APP_TOKEN for Socket Mode"
        )
    client = client or make_web_client(settings)
    feedback = feedback if feedback is not None else FeedbackStore.from_settings(settings)
    deps = BotDeps.create(
        settings,
        answerer,
        feedback=feedback,
        run_ingest=run_ingest,
        fetch_sources=fetch_sources,
        documents=documents,
        corpus_version=corpus_version,
        stream_interval_s=stream_interval_s,
    )
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        # Ack in the request thread, then work in lazy listeners: an ack never waits for a
        # busy worker thread, so Slack's 3-second rule holds under load.
        process_before_response=True,
        request_verification_enabled=not socket_mode,
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="hfbot-slack"
        ),
    )
    app.use(direct_connections_middleware)
    app.use(dedupe_middleware(EventDeduper(feedback)))
    register_listeners(app, deps)
    app.error(_log_unhandled)
    return app


def _log_unhandled(error: Exception, body: dict, logger: logging.Logger) -> None:
    logger.error(
        "unhandled error for Slack request %s: %r", body.get("type"), error, exc_info=error
    )
