"""A fake Slack Web API on 127.0.0.1 that records every call and answers with canned JSON."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"


@dataclass
class Call:
    method: str  # "chat.postMessage", or the path for non-API requests ("/response/1")
    params: dict
    headers: dict
    at: float = field(default_factory=time.monotonic)


class FakeSlackAPI:
    """Serves `/api/<method>` like Slack, plus response_url and file download endpoints."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.errors: dict[str, str] = {}  # method → Slack error to answer with
        self.rate_limit_once: set[str] = set()
        self.replies: dict[tuple[str, str], list[dict]] = {}  # (channel, thread_ts) → messages
        self.history: dict[str, list[dict]] = {}  # channel → messages
        self.files: dict[str, dict] = {}  # file id → files.info "file"
        self.downloads: dict[str, tuple[bytes, str]] = {}  # path → (bytes, content type)
        self.ws_urls: list[str] = []  # apps.connections.open answers, in turn
        self.handlers: dict[str, Callable[[dict], dict]] = {}
        self._ts = itertools.count(1)
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    # ---- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def start(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- assertions ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 10.0, where: Callable | None = None
    ) -> list[Call]:
        """Wait until `count` calls to `method` (matching `where`) arrived; fail after timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and (not where or where(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(
                        f"expected {count} {method} call(s), got {len(found)}; calls: {seen}"
                    )
                self._cond.wait(left)

    def posted(self) -> list[dict]:
        """Everything the bot said in channels, with updates: chat.postMessage + chat.update."""
        return [c.params for c in self.calls if c.method in ("chat.postMessage", "chat.update")]

    def next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    # ---- the server ----------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _respond_api(self, method: str, params: dict) -> tuple[int, dict, dict]:
        if method in self.rate_limit_once:
            self.rate_limit_once.discard(method)
            return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
        if method in self.errors:
            return 200, {}, {"ok": False, "error": self.errors[method]}
        if method in self.handlers:
            return 200, {}, self.handlers[method](params)
        ok = {"ok": True}
        if method == "auth.test":
            return (
                200,
                {},
                {
                    "ok": True,
                    "url": "https://hfbot-test.slack.com/",
                    "team": "Test",
                    "user": "hfbot",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID,
                },
            )
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or self.next_ts()
            return 200, {}, {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method == "chat.postEphemeral":
            return 200, {}, {"ok": True, "message_ts": self.next_ts()}
        if method == "chat.getPermalink":
            channel, ts = params.get("channel"), str(params.get("message_ts", ""))
            link = f"https://hfbot-test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return 200, {}, {"ok": True, "channel": channel, "permalink": link}
        if method == "conversations.replies":
            key = (str(params.get("channel")), str(params.get("ts")))
            return 200, {}, {"ok": True, "messages": self.replies.get(key, []), "has_more": False}
        if method == "conversations.history":
            return (
                200,
                {},
                {"ok": True, "messages": self.history.get(str(params.get("channel")), [])},
            )
        if method == "files.info":
            file = self.files.get(str(params.get("file")))
            return (
                200,
                {},
                ({"ok": True, "file": file} if file else {"ok": False, "error": "file_not_found"}),
            )
        if method == "apps.connections.open":
            if not self.ws_urls:
                return 200, {}, {"ok": False, "error": "no_ws_url"}
            url = self.ws_urls.pop(0) if len(self.ws_urls) > 1 else self.ws_urls[0]
            return 200, {}, {"ok": True, "url": url}
        return 200, {}, ok

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _send(self, status: int, body: bytes, content_type: str, headers: dict) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                api._record(Call(path, {}, dict(self.headers)))
                if path in api.downloads:
                    data, content_type = api.downloads[path]
                    if self.headers.get("Authorization") != "Bearer xoxb-test-token":
                        self._send(200, b"<html>login</html>", "text/html", {})
                        return
                    self._send(200, data, content_type, {})
                    return
                self._send(404, b"not found", "text/plain", {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                split = urlsplit(self.path)
                params: dict = {k: v[-1] for k, v in parse_qs(split.query).items()}
                content_type = self.headers.get("Content-Type", "")
                if raw and "json" in content_type:
                    params.update(json.loads(raw))
                elif raw:
                    params.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
                for key in ("blocks", "view"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                if split.path.startswith("/api/"):
                    method = split.path.removeprefix("/api/")
                    api._record(Call(method, params, dict(self.headers)))
                    status, headers, body = api._respond_api(method, params)
                    self._send(status, json.dumps(body).encode(), "application/json", headers)
                    return
                api._record(Call(split.path, params, dict(self.headers)))
                self._send(200, b"ok", "text/plain", {})

        return Handler


def block_texts(blocks: list[dict]) -> str:
    """All text in a list of blocks, for assertions."""
    out: list[str] = []
    for block in blocks or []:
        if "text" in block and isinstance(block["text"], dict):
            out.append(block["text"].get("text", ""))
        for element in block.get("elements", []) or []:
            text = element.get("text")
            if isinstance(text, dict):
                out.append(text.get("text", ""))
            elif isinstance(text, str):
                out.append(text)
    return "\n".join(out)


def action_ids(blocks: list[dict]) -> list[str]:
    return [
        element.get("action_id", "")
        for block in blocks or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]
