"""The bot's own database: answers given, 👍/👎 feedback, escalations and seen Slack event ids.

SQLAlchemy Core over `settings.resolved_database_url`: SQLite in the data dir by default, or any
URL SQLAlchemy speaks (e.g. `postgresql+psycopg://…`), so several bot replicas can share it.
Every question answered or refused in Slack is a row here (its text only when
HFBOT_STORE_QUESTION_TEXT is on, and masked); `delete_older_than` enforces the retention.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    UniqueConstraint,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.database import make_engine
from bot.privacy import mask_personal_data
from bot.types import Answer, Citation

if TYPE_CHECKING:
    from hfbot.settings import Settings

metadata = MetaData()

answers = Table(
    "hfbot_answers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("channel", String(64), nullable=False, index=True),
    Column("thread_ts", String(32), nullable=True, index=True),
    Column("message_ts", String(32), nullable=True),
    Column("user_id", String(64), nullable=False),
    # NULL when HFBOT_STORE_QUESTION_TEXT=false: questions may hold personal data.
    Column("question", Text, nullable=True),
    Column("answer", Text, nullable=False),
    Column("abstained", Boolean, nullable=False, default=False),
    Column("citations", JSON, nullable=False),
    # A refusal's closest documents: the report groups refusals by them when texts are not kept.
    Column("closest", JSON, nullable=True),
)

votes = Table(
    "hfbot_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(32), nullable=False, index=True),
    Column("user_id", String(64), nullable=False),
    Column("vote", String(8), nullable=False),  # "up" | "down"
    Column("created_at", Float, nullable=False),
    UniqueConstraint("answer_id", "user_id", name="uq_hfbot_feedback_answer_user"),
)

escalations = Table(
    "hfbot_escalations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("answer_id", String(32), nullable=False, index=True),
    Column("requested_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("channel", String(64), nullable=True),
    Column("message_ts", String(32), nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolved_at", Float, nullable=True),
)

# Refusal groups the secretariat marked as handled, by the newest question of the group then;
# the group shows again once a question of it is asked after `handled_at`.
handled = Table(
    "hfbot_handled_refusals",
    metadata,
    Column("answer_id", String(32), primary_key=True),
    Column("handled_by", String(64), nullable=False),
    Column("handled_at", Float, nullable=False, index=True),
)

seen_events = Table(
    "hfbot_seen_events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("seen_at", Float, nullable=False, index=True),
)

# Slack retries an event for about an hour at most; a day of ids is plenty.
SEEN_EVENT_TTL_S = 24 * 3600


@dataclass(frozen=True)
class StoredAnswer:
    id: str
    created_at: float
    channel: str
    thread_ts: str | None
    message_ts: str | None
    user_id: str
    question: str | None
    answer: str
    abstained: bool
    citations: list[dict]
    closest: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class DownVote:
    """A 👎 with the answer it was given to."""

    voted_at: float
    user_id: str
    answer: StoredAnswer


@dataclass(frozen=True)
class Escalation:
    id: str
    answer_id: str
    requested_by: str
    created_at: float
    channel: str | None
    message_ts: str | None
    resolved_by: str | None
    resolved_at: float | None


class FeedbackStore:
    """Answers, votes, escalations and seen event ids, in one SQL database."""

    def __init__(self, url: str, *, store_question_text: bool = True) -> None:
        self.url = url
        self.store_question_text = store_question_text
        self.engine = make_engine(url)
        metadata.create_all(self.engine)
        _add_missing_columns(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(settings.resolved_database_url, store_question_text=settings.store_question_text)

    def close(self) -> None:
        self.engine.dispose()

    # ---- answers -----------------------------------------------------------------------------

    def record_answer(
        self,
        answer: Answer,
        *,
        channel: str,
        user_id: str,
        thread_ts: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """Store an answer given in Slack; returns its id (carried by the answer's buttons)."""
        answer_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                insert(answers).values(
                    id=answer_id,
                    created_at=time.time(),
                    channel=channel,
                    thread_ts=thread_ts,
                    message_ts=message_ts,
                    user_id=user_id,
                    question=(
                        mask_personal_data(answer.question) if self.store_question_text else None
                    ),
                    answer=answer.text,
                    abstained=answer.abstained,
                    citations=[_citation_json(c) for c in answer.citations],
                    closest=[_citation_json(c) for c in answer.closest] if answer.abstained else [],
                )
            )
        return answer_id

    def set_message_ts(self, answer_id: str, message_ts: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(answers).where(answers.c.id == answer_id).values(message_ts=message_ts)
            )

    def set_thread(self, answer_id: str, thread_ts: str) -> None:
        """The answer became a thread root (shared from a slash command)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(answers)
                .where(answers.c.id == answer_id)
                .values(thread_ts=thread_ts, message_ts=thread_ts)
            )

    def get_answer(self, answer_id: str) -> StoredAnswer | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(answers).where(answers.c.id == answer_id)).first()
        return _stored_answer(row) if row else None

    def answered_in_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether the bot has answered in this thread (so replies there are follow-ups)."""
        query = (
            select(answers.c.id)
            .where(answers.c.channel == channel, answers.c.thread_ts == thread_ts)
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    # ---- votes -------------------------------------------------------------------------------

    def record_vote(self, answer_id: str, user_id: str, vote: str) -> None:
        """One vote per user and answer; a later click replaces the earlier one."""
        if vote not in ("up", "down"):
            raise ValueError(f"unknown vote {vote!r}")
        with self.engine.begin() as conn:
            conn.execute(
                delete(votes).where(votes.c.answer_id == answer_id, votes.c.user_id == user_id)
            )
            conn.execute(
                insert(votes).values(
                    answer_id=answer_id, user_id=user_id, vote=vote, created_at=time.time()
                )
            )

    def votes_for(self, answer_id: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(votes.c.user_id, votes.c.vote).where(votes.c.answer_id == answer_id)
            ).all()
        return {user: vote for user, vote in rows}

    def refusals(self, since: float, limit: int = 2000) -> list[StoredAnswer]:
        """Questions the bot could not answer since `since`, newest first."""
        query = (
            select(answers)
            .where(answers.c.abstained.is_(True), answers.c.created_at >= since)
            .order_by(answers.c.created_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_stored_answer(row) for row in conn.execute(query).all()]

    def downvoted(self, limit: int | None = None, since: float | None = None) -> list[DownVote]:
        """The 👎 votes (given since `since`), newest first, each with its answer."""
        query = (
            select(votes.c.created_at, votes.c.user_id, answers)
            .join(answers, answers.c.id == votes.c.answer_id)
            .where(votes.c.vote == "down")
            .order_by(votes.c.created_at.desc())
        )
        if since is not None:
            query = query.where(votes.c.created_at >= since)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [DownVote(row[0], row[1], _stored_answer(row[2:])) for row in rows]

    # ---- escalations -------------------------------------------------------------------------

    def open_escalation(self, answer_id: str, requested_by: str) -> str:
        escalation_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                insert(escalations).values(
                    id=escalation_id,
                    answer_id=answer_id,
                    requested_by=requested_by,
                    created_at=time.time(),
                )
            )
        return escalation_id

    def set_escalation_message(self, escalation_id: str, channel: str, message_ts: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(escalations)
                .where(escalations.c.id == escalation_id)
                .values(channel=channel, message_ts=message_ts)
            )

    def resolve_escalation(self, escalation_id: str, resolved_by: str) -> bool:
        """Close an escalation; False when it was already closed (or is unknown)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(escalations)
                .where(escalations.c.id == escalation_id, escalations.c.resolved_at.is_(None))
                .values(resolved_by=resolved_by, resolved_at=time.time())
            )
        return result.rowcount == 1

    def get_escalation(self, escalation_id: str) -> Escalation | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(escalations).where(escalations.c.id == escalation_id)).first()
        return Escalation(*row) if row else None

    def open_escalations(self) -> list[Escalation]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(escalations)
                .where(escalations.c.resolved_at.is_(None))
                .order_by(escalations.c.created_at)
            ).all()
        return [Escalation(*row) for row in rows]

    # ---- refusal groups marked as handled -----------------------------------------------------

    def mark_handled(self, answer_id: str, user_id: str) -> None:
        """Hide the refusal group whose newest question is `answer_id` until asked again."""
        with self.engine.begin() as conn:
            conn.execute(delete(handled).where(handled.c.answer_id == answer_id))
            conn.execute(
                insert(handled).values(
                    answer_id=answer_id, handled_by=user_id, handled_at=time.time()
                )
            )

    def handled_marks(self) -> dict[str, float]:
        """answer id → when its group was marked as handled."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(handled.c.answer_id, handled.c.handled_at)).all()
        return {answer_id: at for answer_id, at in rows}

    # ---- retention ---------------------------------------------------------------------------

    def delete_older_than(self, cutoff: float) -> dict[str, int]:
        """Delete answers (questions with them), votes, escalations and handled marks from
        before `cutoff`; votes and escalations of a deleted answer go with it."""
        old_answers = select(answers.c.id).where(answers.c.created_at < cutoff)
        with self.engine.begin() as conn:
            deleted = {
                "feedback": conn.execute(
                    delete(votes).where(
                        (votes.c.created_at < cutoff) | votes.c.answer_id.in_(old_answers)
                    )
                ).rowcount,
                "escalations": conn.execute(
                    delete(escalations).where(
                        (escalations.c.created_at < cutoff)
                        | escalations.c.answer_id.in_(old_answers)
                    )
                ).rowcount,
                "handled": conn.execute(
                    delete(handled).where(
                        (handled.c.handled_at < cutoff) | handled.c.answer_id.in_(old_answers)
                    )
                ).rowcount,
            }
            deleted["answers"] = conn.execute(
                delete(answers).where(answers.c.created_at < cutoff)
            ).rowcount
        return deleted

    def counts(self) -> dict[str, int]:
        """Rows per kind (for the report and tests)."""
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in (
                    ("answers", answers),
                    ("feedback", votes),
                    ("escalations", escalations),
                    ("handled", handled),
                )
            }

    # ---- seen events -------------------------------------------------------------------------

    def first_sighting(self, event_id: str) -> bool:
        """Record an event id; False when it was seen before (a re-delivery)."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(seen_events).values(event_id=event_id, seen_at=now))
        except IntegrityError:
            return False
        return True

    def forget_events_before(self, cutoff: float) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(seen_events).where(seen_events.c.seen_at < cutoff)).rowcount


def _add_missing_columns(engine: Engine) -> None:
    """Add columns newer code defines to tables an older version created (create_all does not).

    Several replicas may start at once: a column another one just added is not an error.
    """
    existing = {c["name"] for c in inspect(engine).get_columns(answers.name)}
    for column in answers.columns:
        if column.name in existing:
            continue
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {answers.name} ADD COLUMN {column.name} {kind}"))
        except (OperationalError, ProgrammingError):
            if column.name not in {c["name"] for c in inspect(engine).get_columns(answers.name)}:
                raise


def _citation_json(citation: Citation) -> dict:
    data = citation.to_json()
    data["date_approximate"] = bool(getattr(citation, "date_approximate", False))
    return data


def _stored_answer(row: Sequence) -> StoredAnswer:
    citations = _json_list(row[9])  # some drivers hand JSON back as text
    return StoredAnswer(
        id=row[0],
        created_at=row[1],
        channel=row[2],
        thread_ts=row[3],
        message_ts=row[4],
        user_id=row[5],
        question=row[6],
        answer=row[7],
        abstained=bool(row[8]),
        citations=list(citations or []),
        closest=list(_json_list(row[10]) if len(row) > 10 else []),
    )


def _json_list(value: object) -> list:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])
