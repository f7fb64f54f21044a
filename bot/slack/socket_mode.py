"""Socket Mode over the `websockets` library, plugged into slack_sdk's and Bolt's seams.

slack_sdk's two sync clients stall after a reconnect: the built-in one keeps reading the old
socket (and holds its lock) for up to 3 s, the websocket-client one for up to 10 s, so envelopes
on the new connection can miss Slack's 3-second ack deadline. Here every connection has its own
reader thread, the new connection is read from the moment it opens, and the old one is closed in
the background. Everything else — apps.connections.open through the app's WebClient (so
SLACK_API_URL applies), message queueing, `disconnect` handling, Bolt dispatch and acks — is
slack_sdk's `BaseSocketModeClient` and Bolt's socket mode internals.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from queue import Queue

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.interval_runner import IntervalRunner
from slack_sdk.socket_mode.request import SocketModeRequest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from bot.slack.proxies import websocket_proxy

log = logging.getLogger(__name__)

RECONNECT_BACKOFF_S = (0.5, 1, 2, 5, 10, 30)
CONNECT_TIMEOUT_S = 10


class WebsocketsSocketModeClient(BaseSocketModeClient):
    """A Socket Mode client: one reader thread per connection, reconnects when one closes."""

    def __init__(
        self,
        app_token: str,
        web_client: WebClient,
        logger: logging.Logger | None = None,
        ping_interval: float = 5,
        concurrency: int = 10,
    ) -> None:
        self.app_token = app_token
        self.web_client = web_client
        self.logger = logger or log
        self.ping_interval = ping_interval
        self.wss_uri = None  # type: ignore[assignment]
        self.message_queue = Queue()
        self.message_listeners = []
        self.socket_mode_request_listeners = []
        self.closed = False
        self.connect_operation_lock = threading.Lock()
        self.message_workers = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="hfbot-socket"
        )
        self.message_processor = IntervalRunner(self.process_messages, 0.001).start()
        self._connection: ClientConnection | None = None
        self._lock = threading.Lock()

    def is_connected(self) -> bool:
        connection = self._connection
        return connection is not None and connection.protocol.state.name == "OPEN"

    def connect(self) -> None:
        """Open a connection to `wss_uri` (issued now if unset) and make it the current one."""
        url = self.wss_uri or self.issue_new_wss_url()
        self.wss_uri = None  # a Socket Mode url is good for one connection only
        opened: Queue[ClientConnection | BaseException] = Queue()
        threading.Thread(
            target=self._run_connection, args=(url, opened), name="hfbot-socket", daemon=True
        ).start()
        result = opened.get(timeout=CONNECT_TIMEOUT_S + 5)
        if isinstance(result, BaseException):
            raise result
        with self._lock:
            old, self._connection = self._connection, result
        if old is not None:
            threading.Thread(target=old.close, name="hfbot-socket-close", daemon=True).start()
        self.logger.info("Socket Mode connection open")

    def _run_connection(self, url: str, opened: Queue) -> None:
        """One connection's life: open it, hand it over, read it until it closes."""
        try:
            with connect(
                url,
                open_timeout=CONNECT_TIMEOUT_S,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_interval * 2,
                close_timeout=2,
                max_size=None,
                proxy=websocket_proxy(url),
            ) as connection:
                opened.put(connection)
                self._read(connection)
        except BaseException as exc:
            opened.put(exc)  # ignored when the connection had opened already

    def _read(self, connection: ClientConnection) -> None:
        try:
            while True:
                message = connection.recv()
                self.enqueue_message(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass
        except Exception:
            self.logger.exception("Socket Mode connection failed")
        if not self.closed and connection is self._connection:
            self.logger.warning("Socket Mode connection lost; reconnecting")
            threading.Thread(target=self._reconnect_until_connected, daemon=True).start()

    def _reconnect_until_connected(self) -> None:
        for attempt in range(10_000):
            if self.closed:
                return
            try:
                self.connect_to_new_endpoint(force=True)
                return
            except Exception as exc:
                delay = RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)]
                self.logger.error("Socket Mode reconnect failed (%s); retrying in %s s", exc, delay)
                time.sleep(delay)

    def send_message(self, message: str) -> None:
        connection = self._connection
        if connection is None:
            raise ConnectionError("no Socket Mode connection")
        connection.send(message)

    def disconnect(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        self.closed = True
        self.disconnect()
        self.message_processor.shutdown()
        self.message_workers.shutdown(wait=False)


class SocketModeHandler(BaseSocketModeHandler):
    """Bolt's Socket Mode adapter (as slack_bolt.adapter.socket_mode.builtin) on our client."""

    def __init__(
        self,
        app: App,
        app_token: str,
        web_client: WebClient | None = None,
        ping_interval: float = 5,
        concurrency: int = 10,
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.client = WebsocketsSocketModeClient(
            app_token=app_token,
            web_client=web_client or app.client,
            logger=app.logger,
            ping_interval=ping_interval,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        response = run_bolt_app(self.app, req)
        send_response(client, req, response, start)
