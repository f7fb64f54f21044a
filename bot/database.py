"""The bot's own SQL database, shared by what the Slack bot records (bot.slack.feedback) and what
the site taught it (bot.site_store): one engine recipe, so the terminal and the bot open it alike.

`settings.resolved_database_url`: SQLite in the data dir by default, or any URL SQLAlchemy speaks
(e.g. `postgresql+psycopg://…`) so several replicas share it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets a busy timeout and WAL so threads do not trip on locks."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL never corrupts; a power cut may lose the last votes, not the database.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine
