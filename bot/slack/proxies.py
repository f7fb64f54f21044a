"""Which proxy each outgoing Slack connection takes.

slack_sdk reads HTTPS_PROXY but ignores NO_PROXY, and both slack_sdk and `websockets` would send
even a loopback address through a proxy when NO_PROXY does not list it. A proxy can never reach
this machine's loopback, so loopback addresses always go direct.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk.webhook import WebhookClient, WebhookResponse


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_for(url: str) -> str | None:
    """The proxy for an HTTP(S) request to `url`: None for loopback and NO_PROXY hosts."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host and (is_loopback(host) or urllib.request.proxy_bypass(host)):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("https") or None


def websocket_proxy(url: str) -> Literal[True] | None:
    """`proxy=` for websockets' connect: direct to loopback, else its own environment rules."""
    return None if is_loopback(urlsplit(url).hostname or "") else True


class DirectRespond(Respond):
    """Bolt's `respond`, sending to the response_url through the proxy `proxy_for` picks.

    Bolt builds a WebhookClient per call, and slack_sdk fills an unset proxy from the
    environment, NO_PROXY and loopback notwithstanding.
    """

    def __call__(self, text: str | dict = "", **fields: Any) -> WebhookResponse:  # type: ignore[override]
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        message = dict(text) if isinstance(text, dict) else {"text": text}
        message.update({key: value for key, value in fields.items() if value is not None})
        webhook = WebhookClient(url=self.response_url, ssl=self.ssl)
        webhook.proxy = proxy_for(self.response_url)
        return webhook.send_dict(message)


def direct_connections_middleware(
    context: BoltContext, next_: Callable[[], None]
) -> BoltResponse | None:
    """A Bolt global middleware: every request's WebClient and `respond` use `proxy_for`.

    Bolt builds a new WebClient per request and hands it `proxy=None` when the app's client goes
    direct; slack_sdk then reads the proxy from the environment again.
    """
    if context.client is not None:
        context.client.proxy = proxy_for(context.client.base_url)
    if context.response_url:
        ssl = context.client.ssl if context.client is not None else None
        context["respond"] = DirectRespond(response_url=context.response_url, ssl=ssl)
    next_()
    return None
