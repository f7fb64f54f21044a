"""Fixtures for the deployment tests: loopback fakes of the Slack Web API and an LLM endpoint."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hfbot.settings import Settings
from ingest.models import Chunk, DocumentMeta
from ingest.store import Store, StoredDocument
from tests.fakes import FakeEmbedder


@dataclass
class FakeHTTP:
    """What a loopback fake serves and what it was asked."""

    url: str
    scopes: str | None = "app_mentions:read,chat:write,im:history"
    valid_tokens: set[str] = field(default_factory=lambda: {"xoxb-good", "xapp-good"})
    status: int = 200
    delay_s: float = 0.0
    requests: list[str] = field(default_factory=list)


def _serve(handler_for) -> Iterator[tuple[ThreadingHTTPServer, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_slack() -> Iterator[FakeHTTP]:
    """A Slack Web API on 127.0.0.1 answering auth.test and apps.connections.open."""
    state = FakeHTTP(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            method = self.path.rsplit("/", 1)[-1]
            state.requests.append(method)
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if token not in state.valid_tokens:
                body: dict = {"ok": False, "error": "invalid_auth"}
            elif method == "auth.test":
                body = {"ok": True, "user": "hfbot", "team": "Vest-Viken", "user_id": "UBOT"}
            elif method == "apps.connections.open":
                body = {"ok": True, "url": "wss://127.0.0.1:1/link"}
            else:
                body = {"ok": False, "error": "unknown_method"}
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if state.scopes is not None and method == "auth.test":
                self.send_header("x-oauth-scopes", state.scopes)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    for _server, url in _serve(Handler):
        state.url = url + "/api/"
        yield state


@pytest.fixture
def fake_llm() -> Iterator[FakeHTTP]:
    """An OpenAI-compatible chat endpoint on 127.0.0.1 that answers 'ok'."""
    state = FakeHTTP(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(self.path)
            if state.delay_s:
                time.sleep(state.delay_s)
            if state.status != 200:
                payload = json.dumps({"error": {"message": "model overloaded"}}).encode()
            else:
                payload = json.dumps(
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": request.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": "ok"},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
                    }
                ).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up waiting
                pass

    for _server, url in _serve(Handler):
        state.url = url + "/v1"
        yield state


def fill_store(settings: Settings, embedder: FakeEmbedder) -> Store:
    """Publish two small documents the way ingest does, so the store looks ingested."""
    store = Store.open(settings)
    store.set_embedding_model(settings.embedding_model)  # as ingest records it
    texts = {
        "a.txt": ["Helsefellesskapet har 21 kommuner.", "Partnerskapsmøtet er årlig."],
        "b.txt": ["Vestre Viken HF har 9400 ansatte."],
    }
    for doc_id, parts in texts.items():
        meta = DocumentMeta(doc_id=doc_id, file=doc_id, title=doc_id)
        chunks = [Chunk(doc_id, "h1", i, t) for i, t in enumerate(parts)]
        store.write_chunks(chunks, embedder.embed_documents(parts), meta)
        store.publish(StoredDocument(meta, "h1", meta.fingerprint(), len(chunks)))
    store.set_corpus_version()
    return store
