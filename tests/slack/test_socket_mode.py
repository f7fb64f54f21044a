"""Socket Mode against a local websocket server: envelopes in, acks out within 3 s, also after
Slack asks the bot to reconnect or the connection drops."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Iterator

import pytest
from websockets.sync.server import ServerConnection, serve

from bot.slack.app import build_app
from bot.slack.feedback import FeedbackStore
from bot.slack.server import health_app, start_socket_mode
from hfbot.settings import load_settings
from tests.slack.doubles import ScriptedAnswerer
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlackAPI, block_texts

pytestmark = pytest.mark.slow

ACK_LIMIT_S = 3.0
_envelopes = itertools.count(1)


class FakeSocketModeServer:
    """Slack's side of Socket Mode: hands out connections, delivers envelopes to the newest open
    one (re-delivering, as Slack does, when that connection closes unacknowledged)."""

    def __init__(self) -> None:
        self.opened: list[ServerConnection] = []
        self.closed: set[int] = set()
        self.received: queue.Queue[tuple[float, dict]] = queue.Queue()
        self.redeliveries = 0
        self._lock = threading.Lock()
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, n: int) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket={n}"

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        with self._lock:
            self.opened.append(connection)
        try:
            for message in connection:
                self.received.put((time.monotonic(), json.loads(message)))
        except Exception:
            pass  # the bot went away; a new connection will come
        finally:
            with self._lock:
                self.closed.add(id(connection))

    def is_open(self, connection: ServerConnection) -> bool:
        with self._lock:
            return id(connection) not in self.closed

    def newest_open(self, timeout: float, after: int = 0) -> tuple[int, ServerConnection]:
        """The newest open connection (the n-th opened, n > after)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for n in range(len(self.opened), after, -1):
                    if id(self.opened[n - 1]) not in self.closed:
                        return n, self.opened[n - 1]
            time.sleep(0.02)
        raise AssertionError(f"no open Socket Mode connection within {timeout} s")

    def deliver(self, kind: str, payload: dict, *, after: int = 0) -> tuple[float, dict]:
        """Send an envelope; returns (seconds until its ack, the ack)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            _, connection = self.newest_open(timeout=10, after=after)
            envelope_id = f"env-{next(_envelopes)}"
            sent = time.monotonic()
            try:
                connection.send(json.dumps(_envelope(envelope_id, kind, payload)))
            except Exception:
                continue  # closed under our feet: pick the next connection
            ack = self._wait_ack(envelope_id, ACK_LIMIT_S)
            if ack is not None:
                return ack[0] - sent, ack[1]
            if self.is_open(connection):
                raise AssertionError(f"no ack for {envelope_id} within {ACK_LIMIT_S} s")
            self.redeliveries += 1  # the bot dropped that connection; Slack sends it again
        raise AssertionError("the envelope was never acknowledged")

    def _wait_ack(self, envelope_id: str, timeout: float) -> tuple[float, dict] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                at, message = self.received.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if message.get("envelope_id") == envelope_id:
                return at, message
        return None

    def stop(self) -> None:
        self.server.shutdown()


def _envelope(envelope_id: str, kind: str, payload: dict) -> dict:
    return {
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": 0,
        "retry_reason": "",
    }


def mention_payload(api: FakeSlackAPI, text: str) -> dict:
    return {
        "team_id": TEAM_ID,
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": f"EvSock{next(_envelopes)}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": "UASKER",
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": api.next_ts(),
            "channel": "CGEN",
        },
    }


@pytest.fixture
def socket_bot(fake_api: FakeSlackAPI, isolated_env, monkeypatch) -> Iterator[tuple]:
    ws = FakeSocketModeServer()
    fake_api.ws_urls = [ws.url(1), ws.url(2), ws.url(3)]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test-token")
    monkeypatch.setenv("SLACK_API_URL", fake_api.api_url)
    settings = load_settings()
    answerer = ScriptedAnswerer()
    answerer.delay_s = 2.0  # slow answers must not delay acks
    feedback = FeedbackStore.from_settings(settings)
    app = build_app(
        settings,
        answerer,
        feedback=feedback,
        socket_mode=True,
        documents=dict,
        corpus_version=lambda: "v1",
    )
    handler = start_socket_mode(app, "xapp-test-token", ping_interval=1)
    try:
        yield ws, handler, answerer
    finally:
        handler.close()
        ws.stop()
        feedback.close()


def test_socket_mode_acks_within_three_seconds_and_after_reconnects(
    socket_bot: tuple, fake_api: FakeSlackAPI
) -> None:
    ws, handler, answerer = socket_bot
    opened = fake_api.wait_for("apps.connections.open")[0]
    assert opened.headers["Authorization"] == "Bearer xapp-test-token"  # app token, our base URL

    health = health_app(handler.client.is_connected)
    statuses: list[str] = []
    health({"PATH_INFO": "/healthz"}, lambda status, headers: statuses.append(status))
    assert statuses == ["200 OK"]  # the container's HEALTHCHECK sees a connected bot

    delay, _ = ws.deliver("events_api", mention_payload(fake_api, "Første?"))
    assert delay < ACK_LIMIT_S
    post = fake_api.wait_for("chat.postMessage", timeout=10)[0].params
    assert "Svar på: Første?" in block_texts(post["blocks"])

    # Slack asks for a reconnect (it does so every few hours): a new url, a new connection.
    n, current = ws.newest_open(timeout=5)
    opens = len(fake_api.calls_to("apps.connections.open"))
    current.send(json.dumps({"type": "disconnect", "reason": "refresh_requested"}))
    fake_api.wait_for("apps.connections.open", opens + 1, timeout=10)
    delay, _ = ws.deliver("events_api", mention_payload(fake_api, "Andre?"), after=n)
    assert delay < ACK_LIMIT_S

    # The connection drops without notice: the bot notices and reconnects by itself.
    n, current = ws.newest_open(timeout=5)
    current.close()
    delay, ack = ws.deliver(
        "slash_commands",
        {
            "command": "/hfbot",
            "text": "Tredje?",
            "user_id": "UASKER",
            "channel_id": "CGEN",
            "team_id": TEAM_ID,
            "response_url": f"{fake_api.base}/response/sock",
        },
        after=n,
    )
    assert delay < ACK_LIMIT_S
    assert "Leter i dokumentene" in ack["payload"]["text"]
    fake_api.wait_for("chat.postMessage", 2, timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not fake_api.calls_to("/response/sock"):
        time.sleep(0.05)
    (response,) = fake_api.calls_to("/response/sock")
    assert "Svar på: Tredje?" in block_texts(response.params["blocks"])
    # Every question was answered exactly once, however often the connection changed.
    assert sorted(q for q, _ in answerer.calls) == ["Andre?", "Første?", "Tredje?"]
    handler.close()
    health({"PATH_INFO": "/healthz"}, lambda status, headers: statuses.append(status))
    assert statuses[-1] == "503 Service Unavailable"
