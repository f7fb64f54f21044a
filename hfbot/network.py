"""Outgoing connections to this machine's loopback never go through an HTTP(S) proxy.

Machines that reach package registries or Slack through a proxy often set HTTPS_PROXY without
listing loopback in NO_PROXY. A local Chroma server, Ollama, a Slack gateway or a test double on
127.0.0.1 is then sent to the proxy, which cannot reach it. urllib, httpx and websockets all
read NO_PROXY, so adding loopback there once, at start, keeps every client direct.
"""

from __future__ import annotations

import os

PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
)
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def keep_loopback_direct(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Add loopback to NO_PROXY and no_proxy when a proxy is configured."""
    if not any(environ.get(name) for name in PROXY_VARIABLES):
        return
    listed = [
        part.strip()
        for name in ("NO_PROXY", "no_proxy")
        for part in environ.get(name, "").split(",")
        if part.strip()
    ]
    merged = list(dict.fromkeys([*listed, *LOOPBACK]))
    environ["NO_PROXY"] = environ["no_proxy"] = ",".join(merged)
