"""From a question to an answer in Slack: rate limit, show work, answer (streaming with an LLM),
store, post — and on every failure path a Norwegian message to the user plus a log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import (
    Message,
    answer_messages,
    notice,
    partial_message,
)
from bot.slack.deps import BotDeps
from bot.slack.ratelimit import slow_down_text
from bot.types import Answer, Turn

log = logging.getLogger(__name__)

STORE_DOWN_TEXT = (
    "Jeg får ikke kontakt med dokumentlageret akkurat nå, så jeg kan ikke svare. "
    "Prøv igjen om litt – feilen er logget."
)
FAILED_TEXT = "Beklager, noe gikk galt da jeg skulle svare. Prøv igjen om litt – feilen er logget."
CUT_TEXT = "(Svaret er for langt til å vises her i sin helhet – spør meg i en direktemelding.)"
EMPTY_QUESTION_TEXT = (
    "Hei! Skriv spørsmålet ditt etter navnet mitt, f.eks. «Hvilke kommuner er med i "
    "helsefellesskapet?». Skriv `/hfbot hjelp` for mer."
)


class Sink(Protocol):
    """Where the reply goes: a channel/thread/DM, or an ephemeral slash-command response."""

    def send(self, messages: Sequence[Message]) -> str | None: ...

    def show_progress(self, message: Message) -> None: ...

    def mark_working(self) -> None: ...

    shows_progress: bool


class ChannelSink:
    """Messages in a channel or DM, threaded under `thread_ts` when given; `react_ts` is the
    question's message, which gets 👀 while the bot works on it."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        react_ts: str | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.react_ts = react_ts
        self.progress_ts: str | None = None

    shows_progress = True

    def mark_working(self) -> None:
        if self.react_ts:
            add_reaction(self.client, self.channel, self.react_ts)

    def send(self, messages: Sequence[Message]) -> str | None:
        """Post (or fill in the progress message with) the reply; returns the first message's ts."""
        first_ts: str | None = None
        for index, message in enumerate(messages):
            if index == 0 and self.progress_ts:
                self._call(self.client.chat_update, ts=self.progress_ts, message=message)
                first_ts = self.progress_ts
            else:
                response = self._call(
                    self.client.chat_postMessage,
                    message=message,
                    thread_ts=self.thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                first_ts = first_ts or response.get("ts")
        return first_ts

    def show_progress(self, message: Message) -> None:
        if self.progress_ts:
            self._call(self.client.chat_update, ts=self.progress_ts, message=message)
        else:
            response = self._call(
                self.client.chat_postMessage, message=message, thread_ts=self.thread_ts
            )
            self.progress_ts = response.get("ts")

    def _call(self, method: Callable, *, message: Message, **kwargs):  # type: ignore[no-untyped-def]
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            return method(channel=self.channel, **message.as_kwargs(), **kwargs)
        except SlackApiError as exc:
            # Slack refuses a whole message for one bad block; the plain text still informs.
            if exc.response.get("error") not in (
                "invalid_blocks",
                "msg_too_long",
                "invalid_attachments",
            ):
                raise
            log.error(
                "Slack refused the blocks (%s); sending plain text", exc.response.get("error")
            )
            return method(channel=self.channel, text=message.text, blocks=[], **kwargs)


class EphemeralSink:
    """The response to a slash command, visible to the asker only (through `respond`).

    A response_url takes at most five posts, so no streamed progress here (the ack already
    says "Leter i dokumentene…") and a very long answer is cut to four messages.
    """

    MAX_POSTS = 4
    shows_progress = False

    def __init__(self, respond: Callable[..., object]) -> None:
        self.respond = respond

    def send(self, messages: Sequence[Message]) -> str | None:
        if len(messages) > self.MAX_POSTS:
            log.info("ephemeral answer cut from %d to %d messages", len(messages), self.MAX_POSTS)
            messages = [*messages[: self.MAX_POSTS - 2], notice(CUT_TEXT), messages[-1]]
        for index, message in enumerate(messages):
            self.respond(
                response_type="ephemeral", replace_original=index == 0, **message.as_kwargs()
            )
        return None

    def show_progress(self, message: Message) -> None:
        pass

    def mark_working(self) -> None:
        pass


def answer_question(
    deps: BotDeps,
    *,
    sink: Sink,
    question: str,
    user: str,
    channel: str,
    thread_ts: str | None,
    history: Callable[[], Sequence[Turn]] | None = None,
    ephemeral: bool = False,
) -> None:
    """Answer one question into the sink. Never raises: failures end in a message to the user.

    `history` reads the conversation so far; it runs only for questions that will be answered.
    """
    started = time.perf_counter()
    try:
        if not question.strip():
            sink.send([notice(EMPTY_QUESTION_TEXT)])
            return
        if not deps.limiter.allow(user):
            log.info("rate limit: user %s asked too fast", user)
            sink.send([notice(slow_down_text(deps.limiter.retry_after(user)))])
            return
        sink.mark_working()
        answer = _compose(deps, sink, question, tuple(history()) if history else ())
        answer_id = _record(deps, answer, channel=channel, user=user, thread_ts=thread_ts)
        messages = answer_messages(
            answer,
            answer_id,
            escalation=bool(deps.settings.escalation_channel),
            post_in_channel=ephemeral,
        )
        ts = sink.send(messages)
        if answer_id and ts:
            _quietly(deps.feedback.set_message_ts, answer_id, ts)
        log.info(
            "answered %s in %s (%.0f ms, %s)",
            user,
            channel,
            (time.perf_counter() - started) * 1000,
            "abstained" if answer.abstained else f"{len(answer.citations)} sources",
        )
    except Exception as exc:
        _tell_failure(sink, exc)


def _compose(deps: BotDeps, sink: Sink, question: str, history: Sequence[Turn]) -> Answer:
    if not deps.streams or not sink.shows_progress:
        return deps.answerer.answer(question, history)
    # An LLM writes the answer: show it growing, at most one chat.update per interval.
    sink.show_progress(partial_message(""))
    stream = deps.answerer.stream(question, history)
    last_update = time.monotonic()
    shown = ""
    final: object = None
    while True:
        try:
            partial = next(stream)
        except StopIteration as stop:
            final = stop.value
            break
        now = time.monotonic()
        if partial and partial != shown and now - last_update >= deps.stream_interval_s:
            sink.show_progress(partial_message(partial))
            shown, last_update = partial, now
    if isinstance(final, Answer):
        return final
    # The stream gave text only; the cited answer (and its checks) come from answer().
    return deps.answerer.answer(question, history)


def _record(
    deps: BotDeps, answer: Answer, *, channel: str, user: str, thread_ts: str | None
) -> str | None:
    """Store the answer for the buttons; without the database the answer still goes out."""
    try:
        answer_id = deps.feedback.record_answer(
            answer, channel=channel, user_id=user, thread_ts=thread_ts
        )
    except Exception:
        log.exception("could not store the answer; posting it without buttons")
        return None
    deps.questions.put(answer_id, answer.question)
    return answer_id


def _tell_failure(sink: Sink, exc: Exception) -> None:
    from ingest.store import StoreUnavailable

    if isinstance(exc, StoreUnavailable):
        log.error("store unavailable while answering: %s", exc)
        text = STORE_DOWN_TEXT
    else:
        log.exception("answering failed: %r", exc)
        text = FAILED_TEXT
    try:
        sink.send([notice(text)])
    except Exception:
        log.exception("could not tell the user about the failure either")


def _quietly(func: Callable[..., object], *args: object) -> None:
    try:
        func(*args)
    except Exception:
        log.exception("%s failed", getattr(func, "__name__", func))


def add_reaction(client: WebClient, channel: str, ts: str, name: str = "eyes") -> None:
    """Show that the bot is working on a message; a missing reaction must not stop the answer."""
    try:
        client.reactions_add(channel=channel, timestamp=ts, name=name)
    except SlackApiError as exc:
        if exc.response.get("error") != "already_reacted":
            log.warning("could not add :%s: to %s/%s: %s", name, channel, ts, exc)
