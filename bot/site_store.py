"""What the site taught the bot, in the bot's own database: labels and site answer models.

Same database as the answers and votes (bot.database: SQLite in the data dir or the PostgreSQL at
HFBOT_DATABASE_URL), so every replica sees the same labels and the same model. Labels are not
subject to HFBOT_RETENTION_DAYS: they are the secretariat's work, kept until an admin deletes
them (`FeedbackStore.delete_older_than` never touches these tables).

Below the Slack bot and the terminal commands, which both use it: it imports neither.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from bot.database import make_engine
from bot.privacy import mask_personal_data
from bot.site_labels import Label, LabelPassage

if TYPE_CHECKING:
    from bot.answer.model import AnswerModel
    from hfbot.settings import Settings

log = logging.getLogger(__name__)

metadata = MetaData()

labels_table = Table(
    "hfbot_labels",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False, index=True),
    Column("created_by", String(64), nullable=False),
    Column("answer_id", String(32), nullable=True),
    Column("question", Text, nullable=False),  # masked (bot.privacy) before it is stored
    Column("unanswerable", Boolean, nullable=False, default=False),
    Column("passages", JSON, nullable=False),
    Column("sources", JSON, nullable=False),
    Column("must", JSON, nullable=False),
)

# One row per refit attempt: the model when it was taken, the reason when it was refused.
# status: "active" (answers now), "previous" (kept for a restore), "retired" or "refused".
site_models_table = Table(
    "hfbot_site_models",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False, index=True),
    Column("created_by", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("labels", Integer, nullable=False),
    Column("labels_at", Float, nullable=False),  # the newest label the attempt saw
    Column("summary", Text, nullable=False),
    Column("embedding_model", String(200), nullable=True),
    Column("model", Text, nullable=True),  # AnswerModel.to_json(), as text
)


def _engine_for(url_or_engine: str | Engine) -> Engine:
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    metadata.create_all(engine)
    return engine


class LabelStore:
    """The site's labels: add (or replace by id), list, delete."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        self._owns_engine = isinstance(url_or_engine, str)
        self.engine = _engine_for(url_or_engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> LabelStore:
        return cls(settings.resolved_database_url)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def add(self, label: Label) -> Label:
        """Store a label (replacing one with its id); the question and marked words masked."""
        label = Label(
            question=mask_personal_data(label.question),
            passages=label.passages,
            must=tuple(mask_personal_data(m) for m in label.must),
            unanswerable=label.unanswerable,
            sources=label.sources,
            id=label.id,
            created_by=label.created_by,
            created_at=label.created_at,
            answer_id=label.answer_id,
        )
        row = {
            "id": label.id,
            "created_at": label.created_at,
            "created_by": label.created_by,
            "answer_id": label.answer_id,
            "question": label.question,
            "unanswerable": label.unanswerable,
            "passages": [p.to_json() for p in label.passages],
            "sources": list(label.sources),
            "must": list(label.must),
        }
        with self.engine.begin() as conn:
            conn.execute(delete(labels_table).where(labels_table.c.id == label.id))
            conn.execute(insert(labels_table).values(**row))
        return label

    def all(self) -> list[Label]:
        """Every label, oldest first."""
        query = select(labels_table).order_by(labels_table.c.created_at, labels_table.c.id)
        with self.engine.connect() as conn:
            return [_label(row._mapping) for row in conn.execute(query).all()]

    def get(self, label_id: str) -> Label | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(labels_table).where(labels_table.c.id == label_id)).first()
        return _label(row._mapping) if row else None

    def delete(self, label_id: str) -> bool:
        with self.engine.begin() as conn:
            return (
                conn.execute(delete(labels_table).where(labels_table.c.id == label_id)).rowcount
                == 1
            )

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(labels_table)).scalar_one())

    def newest_at(self) -> float | None:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(labels_table.c.created_at))).scalar_one()


def _json(value: object) -> list:
    if isinstance(value, str):  # some drivers hand JSON back as text
        value = json.loads(value)
    return list(value or [])


def _label(row) -> Label:  # type: ignore[no-untyped-def]
    return Label(
        question=row["question"],
        passages=tuple(LabelPassage.from_json(p) for p in _json(row["passages"])),
        must=tuple(str(m) for m in _json(row["must"])),
        unanswerable=bool(row["unanswerable"]),
        sources=tuple(str(s) for s in _json(row["sources"])),
        id=row["id"],
        created_by=row["created_by"],
        created_at=float(row["created_at"]),
        answer_id=row["answer_id"],
    )


@dataclass(frozen=True)
class SiteModelRow:
    id: str
    created_at: float
    created_by: str
    status: str
    labels: int
    labels_at: float
    summary: str
    embedding_model: str | None
    model: str | None  # JSON text

    def model_json(self) -> dict | None:
        return json.loads(self.model) if self.model else None


def model_from_row(row: SiteModelRow | None) -> AnswerModel | None:
    """A stored site model, or None when it does not fit this code's features any more."""
    from bot.answer.features import MODEL_FEATURES
    from bot.answer.model import AnswerModel, ModelFileError

    raw = row.model_json() if row is not None else None
    if not raw:
        return None
    try:
        return AnswerModel.from_json(raw, **MODEL_FEATURES)
    except ModelFileError as exc:
        log.error("the site's answer model cannot be used (%s): the shipped one answers", exc)
        return None


class SiteModels:
    """The site's answer models: one active, the one before kept for a restore.

    The tables are created on first use, so an Answerer handed this object opens nothing
    until it answers (and a database outage then only keeps the model it has)."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        self._owns_engine = isinstance(url_or_engine, str)
        self._engine = url_or_engine
        self._ready = False

    @property
    def engine(self) -> Engine:
        if not self._ready:
            self._engine = _engine_for(self._engine)
            self._ready = True
        return self._engine  # type: ignore[return-value]

    @classmethod
    def from_settings(cls, settings: Settings) -> SiteModels:
        return cls(settings.resolved_database_url)

    def close(self) -> None:
        if self._owns_engine and self._ready:
            self.engine.dispose()

    def load_model(self, model_id: str) -> AnswerModel | None:
        """The stored model as an AnswerModel (None when gone or made for other features)."""
        return model_from_row(self.get(model_id))

    def _rows(self, *statuses: str, limit: int | None = None) -> list[SiteModelRow]:
        query = select(site_models_table).order_by(site_models_table.c.created_at.desc())
        if statuses:
            query = query.where(site_models_table.c.status.in_(statuses))
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [SiteModelRow(*row) for row in conn.execute(query).all()]

    def active(self) -> SiteModelRow | None:
        rows = self._rows("active", limit=1)
        return rows[0] if rows else None

    def active_id(self) -> str | None:
        """Cheap: what replicas poll to notice a new (or restored) model."""
        query = (
            select(site_models_table.c.id)
            .where(site_models_table.c.status == "active")
            .order_by(site_models_table.c.created_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def get(self, model_id: str) -> SiteModelRow | None:
        query = select(site_models_table).where(site_models_table.c.id == model_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return SiteModelRow(*row) if row else None

    def latest_attempt(self) -> SiteModelRow | None:
        """The newest refit, taken or refused (what the Home tab reports)."""
        rows = self._rows(limit=1)
        return rows[0] if rows else None

    def has_previous(self) -> bool:
        return bool(self._rows("previous", limit=1))

    def record(
        self,
        *,
        taken: bool,
        summary: str,
        labels: int,
        labels_at: float,
        created_by: str,
        model: dict | None = None,
        embedding_model: str | None = None,
    ) -> str:
        """Store an attempt; a taken one becomes active and the active one becomes previous."""
        model_id = uuid.uuid4().hex
        row = {
            "id": model_id,
            "created_at": time.time(),
            "created_by": created_by,
            "status": "active" if taken else "refused",
            "labels": labels,
            "labels_at": labels_at,
            "summary": summary,
            "embedding_model": embedding_model,
            "model": json.dumps(model, ensure_ascii=False) if taken and model else None,
        }
        with self.engine.begin() as conn:
            if taken:
                # Only the newest previous model is kept for a restore.
                conn.execute(
                    update(site_models_table)
                    .where(site_models_table.c.status == "previous")
                    .values(status="retired", model=None)
                )
                conn.execute(
                    update(site_models_table)
                    .where(site_models_table.c.status == "active")
                    .values(status="previous")
                )
            conn.execute(insert(site_models_table).values(**row))
        return model_id

    def restore_previous(self) -> SiteModelRow | None:
        """Retire the active model; the previous one answers again (None: the shipped one)."""
        previous = self._rows("previous", limit=1)
        with self.engine.begin() as conn:
            conn.execute(
                update(site_models_table)
                .where(site_models_table.c.status == "active")
                .values(status="retired")
            )
            if previous:
                conn.execute(
                    update(site_models_table)
                    .where(site_models_table.c.id == previous[0].id)
                    .values(status="active")
                )
        return previous[0] if previous else None
