"""Run the app: HTTP mode (waitress serving /slack/events and /healthz) or Socket Mode."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HTTP_THREADS = 8


def health_app(is_healthy: Callable[[], bool]) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering /healthz (200 when healthy, 503 otherwise) and 404 elsewhere."""

    def wsgi(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != HEALTH_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]
        healthy = is_healthy()
        body = json.dumps({"status": "ok" if healthy else "unavailable"}).encode()
        start_response(
            "200 OK" if healthy else "503 Service Unavailable",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return wsgi


def slack_wsgi_app(app: App) -> Callable[..., Iterable[bytes]]:
    """Slack's requests (events, commands, interactivity) on /slack/events, plus /healthz."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    health = health_app(lambda: True)

    def wsgi(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            return health(environ, start_response)
        return slack(environ, start_response)

    return wsgi


def make_http_server(  # type: ignore[no-untyped-def]
    wsgi: Callable[..., Iterable[bytes]], host: str, port: int, **adjustments: Any
):
    """A waitress server (bound at once; `.run()` serves, `.close()` stops)."""
    from waitress import create_server

    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=HTTP_THREADS,
        ident="hfbot",
        # Slack bodies are small; a huge one is not from Slack.
        max_request_body_size=10 * 1024 * 1024,
        # select() fails outright once the process holds a file descriptor above 1023.
        asyncore_use_poll=True,
        **adjustments,
    )


def stop_http_server(server) -> None:  # type: ignore[no-untyped-def]
    """Stop a server running in another thread: close its sockets from inside its own loop."""
    from waitress import wasyncore

    try:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    except OSError:
        # The loop's wake-up pipe is gone (seen once in CI: EBADF at a test's teardown), so the
        # loop cannot be asked: close its sockets from here, which ends it at its next poll.
        wasyncore.close_all(server._map)
    server.task_dispatcher.shutdown(timeout=5)


def serve_http(app: App, host: str, port: int) -> None:
    server = make_http_server(slack_wsgi_app(app), host, port)
    log.info("hfbot serving Slack requests on http://%s:%s%s", host, port, EVENTS_PATH)
    try:
        server.run()
    finally:
        server.close()


def start_socket_mode(app: App, app_token: str, ping_interval: float = 5) -> SocketModeHandler:
    """Connect over Socket Mode; apps.connections.open goes through the app's WebClient.

    `ping_interval` bounds how long a silently dropped connection goes unnoticed.
    """
    handler = SocketModeHandler(
        app, app_token=app_token, web_client=app.client, ping_interval=ping_interval
    )
    handler.connect()
    return handler


def serve_socket_mode(app: App, app_token: str, host: str, port: int) -> None:
    """Socket Mode, with /healthz on host:port for the container's HEALTHCHECK."""
    handler = start_socket_mode(app, app_token)
    server = make_http_server(health_app(handler.client.is_connected), host, port)
    log.info(
        "hfbot connected over Socket Mode; health check on http://%s:%s%s", host, port, HEALTH_PATH
    )
    try:
        server.run()
    finally:
        server.close()
        handler.close()
