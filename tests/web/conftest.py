"""A small web site on 127.0.0.1 whose pages the tests change, break and remove at will."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from hfbot.settings import Settings, load_settings


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str = ""  # when set, a matching If-None-Match gets a 304
    last_modified: str = ""
    delay_s: float = 0.0
    location: str = ""  # a redirect's target


@dataclass
class Site:
    """The site's pages by path; every request is logged as (method, path, status)."""

    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, title: str, text: str, **kw: object) -> None:
        """An HTML page with a header and footer around its main text."""
        paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        links = "".join(f'<a href="{href}">{href}</a> ' for href in kw.pop("links", []))  # type: ignore[union-attr]
        meta = kw.pop("meta", "")
        html = (
            f"<html><head><title>{title}</title>{meta}</head><body>"
            f"<nav>Hjem | Om oss | Kontakt</nav><main><article><h1>{title}</h1>{paragraphs}"
            f"<div>{links}</div></article></main><footer>Vestre Viken HF</footer></body></html>"
        )
        self.routes[path] = Route(html.encode(), **kw)  # type: ignore[arg-type]

    def hits(self, path: str) -> list[int]:
        return [status for _, p, status in self.log if p == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            site.user_agents.append(self.headers.get("User-Agent", ""))
            route = site.routes.get(self.path)
            if route is None:
                route = Route(b"", 404, "text/plain")
            if route.delay_s:
                time.sleep(route.delay_s)
            status = route.status
            if route.etag and self.headers.get("If-None-Match") == route.etag and status == 200:
                status = 304
            site.log.append(("GET", self.path, status))
            try:
                self.send_response(status)
                if route.location:
                    self.send_header("Location", route.location)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                body = route.body if status == 200 else b""
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, *_: object) -> None:
            pass

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    served.routes["/robots.txt"] = Route(
        b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def web_settings(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Settings]:
    """Settings with no delays, quick timeouts, and a source list written from `entries`."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sources = corpus / "SOURCES.yaml"
    monkeypatch.setenv("HFBOT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("HFBOT_SOURCES_DELAY", "0")
    monkeypatch.setenv("HFBOT_SOURCES_TIMEOUT", "1")
    monkeypatch.setenv("HFBOT_SOURCES_RETRIES", "1")
    monkeypatch.setenv("HFBOT_SOURCES_CONTACT", "sekretariat@example.no")

    def make(entries: list[dict[str, object]] | None = None, **overrides: object) -> Settings:
        if entries is not None:
            sources.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
        return load_settings(**overrides)

    return make
