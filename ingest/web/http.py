"""A polite HTTP client: robots.txt obeyed, one request at a time per host with a delay, a
User-Agent naming hfbot and its contact, timeouts, bounded retries with backoff, a size cap."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

if TYPE_CHECKING:
    from hfbot.settings import Settings

USER_AGENT = "hfbot/0.1 (Helsefellesskap Vest-Viken document assistant{contact})"
# Statuses worth asking again for: the server is busy or briefly broken.
_RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A request that got no usable answer: a one-line reason for the secretariat's report."""


class RobotsForbidden(FetchError):
    """robots.txt does not allow hfbot this address."""


@dataclass(frozen=True)
class Fetched:
    """What one GET brought back (the body empty unless the status is 200)."""

    url: str  # where the content was found, after redirects
    status: int
    headers: httpx.Headers
    body: bytes = b""


class _Retryable(Exception):
    def __init__(self, response: Fetched) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


def user_agent(settings: Settings) -> str:
    contact = settings.sources_contact.strip()
    return USER_AGENT.format(contact=f"; {contact}" if contact else "")


class PoliteClient:
    """Sequential GETs with the manners every site may expect of a robot."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.agent = user_agent(settings)
        self.delay_s = settings.sources_delay_s
        self.retries = settings.sources_retries
        self.max_bytes = int(settings.max_file_mb * 1e6)
        self._client = httpx.Client(
            timeout=settings.sources_timeout_s,
            # Redirects are followed here, hop by hop: each target is checked against its
            # own site's robots.txt and waits its turn on its host like any request.
            follow_redirects=False,
            headers={"User-Agent": self.agent},
            transport=transport,
        )
        self._robots: dict[str, RobotFileParser] = {}
        self._robots_failed: dict[str, FetchError] = {}  # asked once per run, not per page
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()  # one request at a time, whatever the caller does

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    # ---- the one public request ----------------------------------------------------------

    def get(self, url: str, etag: str = "", last_modified: str = "") -> Fetched:
        """GET `url` (conditionally when a validator is given). 200, 304 and 4xx come back;
        a network failure, a 5xx after the retries, robots.txt or the size cap raise.
        Redirects are followed, each target only where its robots.txt allows it."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            return self._get_with_retries(url, headers)
        except _Retryable as exc:
            raise FetchError(f"the server answered HTTP {exc.response.status}") from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"no answer within {self._client.timeout.read:.0f} s") from exc
        except httpx.TransportError as exc:
            raise FetchError(f"cannot reach the server: {_one_line(exc)}") from exc

    # ---- robots.txt ----------------------------------------------------------------------

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self._robots_failed:
            raise self._robots_failed[origin]
        robots = self._robots.get(origin)
        if robots is None:
            try:
                robots = self._robots[origin] = self._read_robots(origin)
            except FetchError as exc:
                self._robots_failed[origin] = exc
                raise
        return robots.can_fetch(self.agent, url)

    def _read_robots(self, origin: str) -> RobotFileParser:
        robots = RobotFileParser(origin + "/robots.txt")
        try:
            got = self._get_with_retries(origin + "/robots.txt", {}, obey_robots=False)
        except (_Retryable, httpx.TransportError) as exc:
            # RFC 9309: robots.txt unreachable means the whole site is off limits for now.
            raise FetchError(f"cannot read {origin}/robots.txt: {_one_line(exc)}") from exc
        if got.status == 200:
            robots.parse(got.body.decode("utf-8", errors="replace").splitlines())
        else:
            robots.allow_all = True  # no robots.txt (4xx): nothing is forbidden
        return robots

    # ---- internals -----------------------------------------------------------------------

    def _get_with_retries(
        self, url: str, headers: dict[str, str], *, obey_robots: bool = True
    ) -> Fetched:
        @retry(
            retry=retry_if_exception(
                lambda e: isinstance(e, _Retryable | httpx.TimeoutException | httpx.NetworkError)
            ),
            stop=stop_after_attempt(self.retries + 1),
            # The backoff grows from the per-host delay: a site that struggles is left alone.
            wait=wait_exponential(multiplier=max(self.delay_s, 0.0), max=120),
            reraise=True,
        )
        def attempt() -> Fetched:
            response = self._get_following(url, headers, obey_robots)
            if response.status in _RETRY_STATUSES:
                raise _Retryable(response)
            return response

        return attempt()

    def _get_following(self, url: str, headers: dict[str, str], obey_robots: bool) -> Fetched:
        first = url
        for _ in range(MAX_REDIRECTS + 1):
            if obey_robots and not self.allowed(url):
                if url == first:
                    raise RobotsForbidden("robots.txt does not allow hfbot to fetch this address")
                raise RobotsForbidden(
                    f"it redirects to {url}, which robots.txt does not allow hfbot to fetch"
                )
            got, target = self._get_once(url, headers)
            if not target:
                return got
            url = target
        raise FetchError("too many redirects")

    def _get_once(self, url: str, headers: dict[str, str]) -> tuple[Fetched, str]:
        """One request: what came back, and where it redirects to ("" when it does not)."""
        with self._lock:
            self._wait_for_host(urlsplit(url).netloc)
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    body = self._read_capped(response) if response.status_code == 200 else b""
                    got = Fetched(str(response.url), response.status_code, response.headers, body)
                    follow = response.next_request if response.has_redirect_location else None
                    return got, str(follow.url) if follow is not None else ""
            finally:
                self._last_request[urlsplit(url).netloc] = time.monotonic()

    def _wait_for_host(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is not None:
            pause = self.delay_s - (time.monotonic() - last)
            if pause > 0:
                time.sleep(pause)

    def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(_too_large(int(declared), self.max_bytes))
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(_too_large(size, self.max_bytes, at_least=True))
            chunks.append(chunk)
        return b"".join(chunks)


def _too_large(size: int, limit: int, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return (
        f"file too large ({more}{size / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB, "
        "HFBOT_MAX_FILE_MB)"
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
