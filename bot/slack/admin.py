"""Secretariat jobs from Slack: refresh the corpus, and add a document uploaded in a DM."""

from __future__ import annotations

import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.deps import BotDeps
from bot.slack.mrkdwn import escape
from bot.slack.proxies import proxy_for

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
REFUSAL_TEXT = (
    "Beklager, bare sekretariatet kan oppdatere dokumentene. Ta kontakt med sekretariatet om "
    "du mener et dokument mangler eller er utdatert."
)
BUSY_TEXT = "En oppdatering av dokumentene pågår allerede – prøv igjen når den er ferdig."


class UploadError(Exception):
    """An uploaded file that cannot be added; the message is for the user (Norwegian)."""


@dataclass(frozen=True)
class AddedDocument:
    file: str
    title: str
    chunks: int
    replaced: bool


def _count(value: object) -> int:
    if isinstance(value, list | tuple | set | dict):
        return len(value)
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def report_text(report: object) -> str:
    """The ingest report as one Norwegian line, plus the files that failed."""
    parts = [
        f"{_count(getattr(report, 'added', 0))} lagt til",
        f"{_count(getattr(report, 'updated', 0))} oppdatert",
        f"{_count(getattr(report, 'metadata_updated', 0))} med ny metadata",
        f"{_count(getattr(report, 'removed', 0))} fjernet",
        f"{_count(getattr(report, 'unchanged', 0))} uendret",
        f"{_count(getattr(report, 'skipped', 0))} hoppet over",
        f"{_count(getattr(report, 'failed', 0))} feilet",
    ]
    seconds = float(getattr(report, "seconds", 0.0) or 0.0)
    text = f"Dokumentene er oppdatert: {', '.join(parts)} ({_count(getattr(report, 'chunks', 0))}"
    text += f" tekstbiter, {seconds:.1f} s)."
    for failure in list(getattr(report, "failed", []) or [])[:10]:
        if isinstance(failure, dict):
            text += f"\n• {failure.get('file')}: {failure.get('error')}"
    return text


FETCH_FAILURES_SHOWN = 10


def fetch_text(fetched: object, failing_since: dict[str, str] | None = None) -> str:
    """What a fetch of the web sources did, in Norwegian: counts, then each address that
    could not be fetched, why and since when ("" when there are no web sources)."""
    failed = [f for f in list(getattr(fetched, "failed", []) or []) if isinstance(f, dict)]
    warnings = [str(w) for w in list(getattr(fetched, "warnings", []) or [])]
    if not _count(getattr(fetched, "sources", 0)) and not failed and not warnings:
        return ""
    since = failing_since or {}
    parts = [
        f"{_count(getattr(fetched, 'added', 0))} nye",
        f"{_count(getattr(fetched, 'updated', 0))} endret",
        f"{_count(getattr(fetched, 'removed', 0))} fjernet",
        f"{_count(getattr(fetched, 'unchanged', 0))} uendret",
        f"{len(failed)} feilet",
    ]
    lines = [f"Nettkildene: {', '.join(parts)}."]
    if failed:
        lines.append("Kunne ikke hentes (den siste gode kopien brukes fortsatt):")
    for failure in failed[:FETCH_FAILURES_SHOWN]:
        url = str(failure.get("url", ""))
        line = f"• {escape(url)}: {escape(str(failure.get('error', '')))}"
        when = since.get(url, "")
        if when:
            line += f" (feiler siden {when[:16].replace('T', ' ')})"
        lines.append(line)
    if len(failed) > FETCH_FAILURES_SHOWN:
        lines.append(f"• … og {len(failed) - FETCH_FAILURES_SHOWN} til (se `hfbot report`)")
    lines += [f"• {escape(w)}" for w in warnings[:5]]
    return "\n".join(lines)


def _failing_since(deps: BotDeps) -> dict[str, str]:
    try:
        from ingest.web.status import source_statuses

        return {s.url: s.failing_since for s in source_statuses(deps.settings) if s.failing_since}
    except Exception:  # the reply is worth more than the dates in it
        log.exception("cannot read the web sources' state")
        return {}


def refresh_corpus(deps: BotDeps) -> str:
    """Fetch the web sources, then run the incremental ingest; the reply says what changed
    (or why nothing did), and names the sources that could not be fetched."""
    if not deps.ingest_lock.acquire(blocking=False):
        return BUSY_TEXT
    try:
        fetched = deps.fetch_sources()
        report = deps.run_ingest()
    except Exception as exc:
        log.exception("corpus refresh from Slack failed")
        return f"Oppdateringen feilet: {exc}. Ingenting er endret i dokumentene som er i bruk."
    finally:
        deps.ingest_lock.release()
    web = fetch_text(fetched, _failing_since(deps) if getattr(fetched, "failed", None) else {})
    return report_text(report) + (f"\n{web}" if web else "")


def safe_file_name(name: str) -> str:
    """A plain file name for the corpus folder: no folders, no leading dots, no control chars."""
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f/]", "", name).strip().lstrip(".")
    return name[:200]


def add_uploaded_file(deps: BotDeps, client: WebClient, file: dict) -> AddedDocument:
    """Download a file shared with the bot, save it in the corpus folder and ingest it."""
    info = _file_info(client, file)
    name = safe_file_name(str(info.get("name") or info.get("title") or ""))
    if not name:
        raise UploadError("Filen har ikke noe navn jeg kan bruke.")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(
            f"Jeg kan ikke lese «{name}»: jeg tar imot PDF, Word (.docx), HTML, Markdown og "
            "tekstfiler."
        )
    size = int(info.get("size") or 0)
    if size > MAX_UPLOAD_BYTES:
        raise UploadError(f"«{name}» er for stor ({size // 1_000_000} MB; grensen er 50 MB).")
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        raise UploadError(f"Slack ga meg ingen nedlastingsadresse for «{name}».")
    data = download_private_file(client, str(url))

    corpus = Path(deps.settings.corpus_dir)
    target = corpus / name
    previous = target.read_bytes() if target.exists() else None
    if not deps.ingest_lock.acquire(timeout=600):
        raise UploadError(BUSY_TEXT)
    try:
        corpus.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, data)
        try:
            report = deps.run_ingest()
        except Exception as exc:
            _restore(target, previous)
            log.exception("ingest of uploaded file %s failed", name)
            raise UploadError(f"Kunne ikke legge inn «{name}»: {exc}") from exc
        failure = _failure_for(report, name)
        if failure:
            _restore(target, previous)
            deps.run_ingest()  # put the store back in line with the folder
            raise UploadError(f"Kunne ikke lese «{name}»: {failure}")
    finally:
        deps.ingest_lock.release()
    title, chunks = _document_summary(deps, name)
    return AddedDocument(file=name, title=title, chunks=chunks, replaced=previous is not None)


def added_text(doc: AddedDocument) -> str:
    verb = "oppdatert" if doc.replaced else "lagt til"
    return f"«{doc.title}» er {verb} i dokumentene ({doc.chunks} tekstbiter, fil: {doc.file})."


def _file_info(client: WebClient, file: dict) -> dict:
    # Message events may carry only a stub of the file; files.info has the download url.
    if (
        file.get("url_private")
        and file.get("name")
        and file.get("file_access") != "check_file_info"
    ):
        return file
    try:
        return dict(client.files_info(file=file["id"]).get("file") or {})
    except SlackApiError as exc:
        raise UploadError(f"Fant ikke filen hos Slack ({exc.response.get('error')}).") from exc


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the bot token to wherever it points.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def _allowed_download_host(client: WebClient, url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    api_host = (urlsplit(client.base_url).hostname or "").lower()
    slack_hosts = ("slack.com", "slack-gov.com", "slack-edge.com")
    return host == api_host or any(host == h or host.endswith("." + h) for h in slack_hosts)


def download_private_file(client: WebClient, url: str) -> bytes:
    """Fetch a url_private with the bot token, through the same proxy rules as the Web API."""
    if not _allowed_download_host(client, url):
        raise UploadError("Filen ligger på en adresse jeg ikke sender Slack-nøkkelen til.")
    proxy = proxy_for(url)
    handlers: list[urllib.request.BaseHandler] = [
        _NoRedirects(),
        urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {}),
    ]
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with opener.open(request, timeout=60) as response:
            content_type = response.headers.get("Content-Type", "")
            data = response.read(MAX_UPLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise UploadError(
            f"Kunne ikke laste ned filen fra Slack (HTTP {exc.code}). Har appen rettigheten "
            "files:read?"
        ) from exc
    except OSError as exc:
        raise UploadError(f"Kunne ikke laste ned filen fra Slack: {exc}") from exc
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError("Filen er for stor (grensen er 50 MB).")
    if content_type.startswith("text/html") and not url.lower().split("?")[0].endswith(
        (".html", ".htm")
    ):
        # Slack answers a download without the right scope with its login page.
        raise UploadError("Slack ga meg en innloggingsside i stedet for filen: mangler files:read?")
    return data


def _write_atomically(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.upload")
    temporary.write_bytes(data)
    os.replace(temporary, target)


def _restore(target: Path, previous: bytes | None) -> None:
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        _write_atomically(target, previous)


def _failure_for(report: object, name: str) -> str | None:
    for failure in list(getattr(report, "failed", []) or []):
        if isinstance(failure, dict) and Path(str(failure.get("file", ""))).name == name:
            return str(failure.get("error") or "ukjent feil")
    for skipped in list(getattr(report, "skipped", []) or []):
        if isinstance(skipped, dict) and Path(str(skipped.get("file", ""))).name == name:
            return str(skipped.get("reason") or skipped.get("error") or "filtypen støttes ikke")
        if isinstance(skipped, str) and Path(skipped).name == name:
            return "filtypen støttes ikke"
    return None


def _document_summary(deps: BotDeps, name: str) -> tuple[str, int]:
    try:
        for doc in deps.documents().values():
            meta = doc.meta
            if meta.file == name or Path(meta.doc_id).name == name:
                return meta.title or name, int(doc.chunk_count)
    except Exception:
        log.exception("could not read the document registry after an upload")
    return name, 0
