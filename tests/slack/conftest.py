"""The bot as Slack sees it: `hfbot serve`'s HTTP server on 127.0.0.1, a fake Web API, and
signed requests for events, slash commands and button clicks."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, text

from bot.slack.app import build_app
from bot.slack.feedback import FeedbackStore
from bot.slack.server import make_http_server, slack_wsgi_app, stop_http_server
from hfbot.settings import Settings, load_settings
from tests.slack.doubles import ScriptedAnswerer
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlackAPI

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
ADMIN = "UADMIN"
ESCALATION_CHANNEL = "CSEKR"

_ids = itertools.count(1)
# The storage tests also run on PostgreSQL when CI provides one (.ci/run sets this).
POSTGRES_URL = os.environ.get("HFBOT_TEST_DATABASE_URL", "")
# Slack reaches the bot directly: requests from the tests ignore any HTTP(S)_PROXY around them.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body) if self.body else {}


@dataclass
class Bot:
    """A running bot with helpers that talk to it the way Slack does."""

    url: str
    api: FakeSlackAPI
    answerer: ScriptedAnswerer
    settings: Settings
    feedback: FeedbackStore
    extra: dict = field(default_factory=dict)

    # ---- raw requests --------------------------------------------------------------------------

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict | None = None,
        signed: bool = True,
    ) -> Reply:
        timestamp = int(time.time()) if timestamp is None else timestamp
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if signed:
            all_headers["X-Slack-Request-Timestamp"] = str(timestamp)
            all_headers["X-Slack-Signature"] = signature or sign(body, timestamp)
        request = urllib.request.Request(
            self.url + "/slack/events", data=body, headers=all_headers, method="POST"
        )
        started = time.perf_counter()
        try:
            with DIRECT.open(request, timeout=10) as response:
                data = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            data, status = exc.read(), exc.code
        return Reply(status, data, time.perf_counter() - started)

    # ---- Slack's requests ----------------------------------------------------------------------

    def event(self, event: dict, *, event_id: str | None = None, retry: int | None = None) -> Reply:
        payload = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):06d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        headers = {}
        if retry is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(payload).encode(), "application/json", headers=headers)

    def mention(self, text: str, *, channel: str = "CGEN", user: str = "UASKER", **extra) -> dict:
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {text}".rstrip(),
            "ts": self.api.next_ts(),
            "channel": channel,
            "event_ts": "1",
            **extra,
        }
        self.extra["last_reply"] = self.event(event)
        return event

    def message(
        self, text: str, *, channel: str, channel_type: str, user: str = "UASKER", **extra
    ) -> dict:
        event = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": self.api.next_ts(),
            "channel": channel,
            "channel_type": channel_type,
            "event_ts": "1",
            **extra,
        }
        self.extra["last_reply"] = self.event(event)
        return event

    def command(self, text: str, *, user: str = "UASKER", channel: str = "CGEN") -> Reply:
        form = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "user_id": user,
            "command": "/hfbot",
            "text": text,
            "response_url": f"{self.api.base}/response/{next(_ids)}",
            "trigger_id": "trigger",
            "api_app_id": "A0001",
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interact(self, kind: str, user: str, **fields: object) -> Reply:
        """An interaction payload as Slack posts it (a click, a modal's submission): the fields
        every one carries, with `fields`."""
        payload = {
            "type": kind,
            "team": {"id": TEAM_ID},
            "user": {"id": user},
            "api_app_id": "A0001",
            "token": "legacy",
            "trigger_id": "trigger",
            **fields,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "UASKER",
        channel: str = "CGEN",
        message_ts: str = "1.0",
        thread_ts: str | None = None,
        ephemeral: bool = False,
    ) -> Reply:
        fields: dict = {
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
                **({"thread_ts": thread_ts} if thread_ts else {}),
            },
            "channel": {"id": channel},
            "response_url": f"{self.api.base}/response/{next(_ids)}",
            "actions": [
                {"type": "button", "action_id": action_id, "value": value, "block_id": "b"}
            ],
        }
        if not ephemeral:
            fields["message"] = {
                "ts": message_ts,
                **({"thread_ts": thread_ts} if thread_ts else {}),
            }
        return self.interact("block_actions", user, **fields)

    def responses(self) -> list[dict]:
        """What the bot sent to response_urls (slash commands, ephemeral buttons)."""
        return [c.params for c in self.api.calls if c.method.startswith("/response/")]

    def wait_responses(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.responses()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} response_url posts, got {self.responses()}")


@pytest.fixture
def fake_api() -> Iterator[FakeSlackAPI]:
    api = FakeSlackAPI().start()
    yield api
    api.stop()


@pytest.fixture
def slack_settings(isolated_env: Path, fake_api: FakeSlackAPI, monkeypatch) -> Settings:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", fake_api.api_url)
    monkeypatch.setenv("HFBOT_ADMINS", ADMIN)
    monkeypatch.setenv("HFBOT_ESCALATION_CHANNEL", ESCALATION_CHANNEL)
    monkeypatch.setenv("HFBOT_RATE_LIMIT_PER_MINUTE", "100")
    return load_settings()


def start_bot(
    settings: Settings,
    api: FakeSlackAPI,
    answerer,
    **build_kwargs,
) -> tuple[Bot, Callable[[], None]]:
    """Build the app like `hfbot serve` does and serve it on 127.0.0.1:<free port>."""
    feedback = FeedbackStore.from_settings(settings)
    build_kwargs.setdefault("documents", dict)
    build_kwargs.setdefault("corpus_version", lambda: "v1")
    app = build_app(settings, answerer, feedback=feedback, **build_kwargs)
    server = make_http_server(slack_wsgi_app(app), "127.0.0.1", 0, asyncore_loop_timeout=0.05)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        stop_http_server(server)
        thread.join(timeout=5)
        feedback.close()

    bot = Bot(f"http://127.0.0.1:{port}", api, answerer, settings, feedback)
    return bot, stop


@pytest.fixture
def answerer() -> ScriptedAnswerer:
    return ScriptedAnswerer()


@pytest.fixture
def make_bot(
    slack_settings: Settings, fake_api: FakeSlackAPI, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Bot]]:
    """Start a bot with extra environment settings and build arguments; stopped after the test."""
    stops: list[Callable[[], None]] = []

    def make(env: dict | None = None, answerer=None, **build_kwargs) -> Bot:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        settings = load_settings() if env else slack_settings
        running, stop = start_bot(
            settings, fake_api, answerer or ScriptedAnswerer(), **build_kwargs
        )
        stops.append(stop)
        return running

    yield make
    for stop in stops:
        stop()


@pytest.fixture
def bot(make_bot: Callable[..., Bot], answerer: ScriptedAnswerer) -> Bot:
    return make_bot(answerer=answerer)


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A database URL on a schema of its own, so runs never see each other's rows."""
    schema = f"hfbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
