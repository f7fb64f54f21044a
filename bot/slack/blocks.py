"""Block Kit messages: answers with sources and buttons, quoted passages, help, escalations.

Slack rejects a whole message with a section over 3,000 characters or more than 50 blocks, so
long texts are split into several sections and several messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.slack.mrkdwn import escape, from_markdown, link, quote_block, split_text
from bot.types import Answer, Citation

MAX_BLOCKS = 50
FALLBACK_LIMIT = 3000  # the plain `text` shown in notifications; Slack allows more, users do not

# action ids, shared with the listeners
VOTE_UP = "hfbot_vote_up"
VOTE_DOWN = "hfbot_vote_down"
SHOW_QUOTES = "hfbot_show_quotes"
ESCALATE = "hfbot_escalate"
RESOLVE = "hfbot_resolve"
POST_IN_CHANNEL = "hfbot_post_in_channel"

WORKING_TEXT = "Leter i dokumentene…"
_CLOSEST_MARKERS = ("\nNærmeste dokumenter:", "\nClosest documents:")


@dataclass
class Message:
    """One chat message: plain fallback text (always set) and its blocks."""

    text: str
    blocks: list[dict] = field(default_factory=list)

    def as_kwargs(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


def section(mrkdwn_text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn_text}}


def sections(mrkdwn_text: str) -> list[dict]:
    return [section(piece) for piece in split_text(mrkdwn_text) if piece.strip()]


def context(mrkdwn_text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": split_text(mrkdwn_text)[0]}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    element = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def fallback(text: str) -> str:
    """Plain text for notifications and screen readers: escaped, and short enough."""
    text = escape(text.strip()) or "…"
    return text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1].rstrip() + "…"


def format_date(iso: str, approximate: bool) -> str:
    """Norwegian date for a source: "12.06.2024", or "ca. 2011" when only the year is known."""
    if not iso:
        return "udatert"
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return escape(iso)
    if approximate:
        if (day.month, day.day) in ((1, 1), (12, 31)):
            return f"ca. {day.year}"
        return f"ca. {day:%d.%m.%Y}"
    return f"{day:%d.%m.%Y}"


def source_line(citation: Citation) -> str:
    """`[n] Title — date — location`, the title linked when the document has a url."""
    title = citation.title or citation.file or "Uten tittel"
    parts = [link(citation.url, title) if citation.url else escape(title)]
    parts.append(format_date(citation.date, citation.date_approximate))
    if citation.location:
        parts.append(escape(citation.location))
    elif citation.file and citation.file != citation.title:
        parts.append(f"`{escape(citation.file)}`")
    return f"*[{citation.n}]* " + " — ".join(parts)


def answer_actions(
    answer_id: str,
    *,
    escalation: bool,
    post_in_channel: bool = False,
    has_quotes: bool = True,
) -> dict:
    elements = [
        button("👍", VOTE_UP, answer_id),
        button("👎", VOTE_DOWN, answer_id),
    ]
    if has_quotes:
        elements.append(button("Vis utdrag", SHOW_QUOTES, answer_id))
    if escalation:
        elements.append(button("Spør sekretariatet", ESCALATE, answer_id))
    if post_in_channel:
        elements.append(button("Del i kanalen", POST_IN_CHANNEL, answer_id, style="primary"))
    return {"type": "actions", "block_id": f"hfbot_answer_{answer_id}", "elements": elements}


def answer_messages(
    answer: Answer,
    answer_id: str | None,
    *,
    escalation: bool = False,
    post_in_channel: bool = False,
) -> list[Message]:
    """An answer as one or more messages: answer text, sources, then the buttons (last message)."""
    blocks = sections(from_markdown(answer_body(answer)) or "_(tomt svar)_")
    sources = answer.citations or answer.closest
    if sources:
        heading = "*Kilder*" if answer.citations else "*Nærmeste dokumenter*"
        blocks.extend(sections(heading + "\n" + "\n".join(source_line(c) for c in sources)))
    if answer_id:
        blocks.append(
            answer_actions(
                answer_id,
                escalation=escalation,
                post_in_channel=post_in_channel,
                has_quotes=bool(answer.citations),
            )
        )
    return paginate(blocks, fallback(answer_text_with_sources(answer)))


def answer_body(answer: Answer) -> str:
    """The answer text without the plain list of closest documents an abstention ends with:
    the message shows them as linked sources instead."""
    if answer.abstained and answer.closest:
        for marker in _CLOSEST_MARKERS:
            head, found, _ = answer.text.partition(marker)
            if found:
                return head.rstrip()
    return answer.text


def answer_text_with_sources(answer: Answer) -> str:
    """The plain-text form of an answer, for notifications and screen readers."""
    lines = [answer_body(answer).strip()]
    sources = answer.citations or answer.closest
    if sources:
        lines.append("Kilder:" if answer.citations else "Nærmeste dokumenter:")
        for c in sources:
            when = f" ({c.date})" if c.date else ""
            lines.append(f"[{c.n}] {c.title or c.file}{when}")
    return "\n".join(lines)


def paginate(blocks: Sequence[dict], text: str) -> list[Message]:
    """Split blocks into messages of at most 50 blocks; every message keeps a fallback text."""
    pages = [list(blocks[i : i + MAX_BLOCKS]) for i in range(0, len(blocks), MAX_BLOCKS)] or [[]]
    messages = [Message(text=text, blocks=pages[0])]
    for number, page in enumerate(pages[1:], start=2):
        messages.append(Message(text=f"(fortsettelse {number}/{len(pages)})", blocks=page))
    return messages


def partial_message(text: str) -> Message:
    """A message for an answer still being written (LLM streaming)."""
    body = from_markdown(text.strip()) or escape(WORKING_TEXT)
    blocks = sections(body + " …")[: MAX_BLOCKS - 1]
    blocks.append(context("_skriver svar …_"))
    return Message(text=fallback(text or WORKING_TEXT), blocks=blocks)


def quotes_messages(citations: Sequence[dict]) -> list[Message]:
    """The passages an answer quoted, one section per source."""
    blocks: list[dict] = []
    for c in citations:
        head = source_line(_citation_from_json(c))
        quote = str(c.get("quote") or "").strip()
        body = quote_block(quote) if quote else "_(ingen utdrag)_"
        blocks.extend(sections(head + "\n" + body))
    if not blocks:
        blocks = [section("Dette svaret har ingen utdrag å vise.")]
    text = "Utdrag fra kildene: " + ", ".join(f"[{c.get('n')}]" for c in citations)
    return paginate(blocks, fallback(text))


def _citation_from_json(data: dict) -> Citation:
    return Citation(
        n=int(data.get("n", 0)),
        file=str(data.get("file", "")),
        title=str(data.get("title", "")),
        date=str(data.get("date", "")),
        date_approximate=bool(data.get("date_approximate", False)),
        location=str(data.get("location", "")),
        url=str(data.get("url", "")),
        quote=str(data.get("quote", "")),
    )


def help_message(*, is_admin: bool = False) -> Message:
    lines = [
        "*Slik bruker du hfbot* – jeg svarer på spørsmål om Helsefellesskap Vest-Viken ut fra "
        "dokumentene, med kilder.",
        "• Nevn meg i en kanal: `@hfbot Hvilke kommuner er med i helsefellesskapet?` – jeg svarer "
        "i en tråd.",
        "• Send meg en direktemelding, eller svar i en tråd der jeg har svart, for "
        "oppfølgingsspørsmål.",
        "• `/hfbot <spørsmål>` gir et svar bare du ser, med mulighet til å dele det i kanalen.",
        "• Under hvert svar: 👍/👎 for tilbakemelding, *Vis utdrag* for sitatene, og "
        "*Spør sekretariatet* når du trenger et menneske.",
    ]
    if is_admin:
        lines += [
            "*For sekretariatet*",
            "• `/hfbot oppdater` leser dokumentmappen på nytt.",
            "• Last opp en fil til meg i en direktemelding for å legge den til i dokumentene.",
            "• Hjem-fanen min viser deg spørsmål jeg ikke kunne svare på, svar med 👎, åpne "
            "saker og dokumentenes tilstand (i terminalen: `hfbot report`).",
        ]
    text = "\n".join(lines)
    return Message(text=fallback(text.replace("*", "")), blocks=sections(text))


def notice(text: str) -> Message:
    """A short message to the user (errors, refusals, confirmations); `text` is plain."""
    return Message(text=fallback(text), blocks=[section(escape(text))])


def escalation_message(
    *,
    question: str | None,
    answer_text: str,
    requested_by: str,
    permalink: str | None,
    escalation_id: str,
    mention: str = "",
    resolved_by: str | None = None,
) -> Message:
    """What the secretariat sees: who asks, the question, the bot's answer and a thread link."""
    head = f"{mention} " if mention else ""
    head += f"<@{requested_by}> ber sekretariatet om hjelp"
    if permalink:
        head += f" ({link(permalink, 'gå til tråden')})"
    blocks = [section(head)]
    question_text = escape(question) if question else "_(spørsmålsteksten lagres ikke – se tråden)_"
    blocks += sections("*Spørsmål*\n" + question_text)
    blocks += sections("*Botens svar*\n" + from_markdown(answer_text))
    if resolved_by:
        blocks.append(context(f"✅ Løst av <@{resolved_by}>"))
    else:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"hfbot_escalation_{escalation_id}",
                "elements": [button("Merk som løst", RESOLVE, escalation_id, style="primary")],
            }
        )
    text = f"Spørsmål til sekretariatet fra <@{requested_by}>"
    if len(blocks) > MAX_BLOCKS:  # keep the button: drop the tail of a very long answer
        blocks = blocks[: MAX_BLOCKS - 1] + blocks[-1:]
    return Message(text=text, blocks=blocks)
