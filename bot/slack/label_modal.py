"""The "Finn svaret" modal: the question, the passages the bot considered (best first, with
document, section and date), boxes to tick the ones that answer, the exact words, and "Står
ikke i dokumentene".

Slack's limits, kept here: a view holds at most 100 blocks, a section text 3,000 characters,
a checkbox option's text 75, a checkboxes element 10 options, an option value 150 characters
and private_metadata 3,000.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.candidates import Candidate
from bot.slack.blocks import format_date
from bot.slack.mrkdwn import escape

FIND_ANSWER = "hfbot_find_answer"  # the Home tab's button; value: the answer id
SHOW_MORE = "hfbot_label_more"  # in the modal
CALLBACK = "hfbot_label_submit"

PAGE = 10  # candidates per "Vis flere", and per checkboxes element (Slack: ≤ 10 options)
MAX_SHOWN = 30
VIEW_BLOCK_LIMIT = 100
TEXT_LIMIT = 3000
PASSAGE_CHARS = 1200  # one candidate's text in its section: room for the source line
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
METADATA_LIMIT = 3000
TITLE = "Finn svaret"  # a modal title: at most 24 characters

QUESTION_BLOCK = "hfbot_label_question"
MUST_BLOCK = "hfbot_label_must"
NONE_BLOCK = "hfbot_label_none"
PICK_BLOCK = "hfbot_label_pick_{}"
UNANSWERABLE = "unanswerable"


@dataclass
class ModalState:
    """What the modal carries between requests (private_metadata)."""

    answer_id: str
    shown: int = PAGE
    ask_question: bool = False  # the question text is not stored: the admin types it

    def dump(self) -> str:
        raw = json.dumps({"a": self.answer_id, "n": self.shown, "q": self.ask_question})
        return raw[:METADATA_LIMIT]

    @classmethod
    def load(cls, raw: str) -> ModalState:
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            data = {}
        return cls(str(data.get("a", "")), int(data.get("n", PAGE)), bool(data.get("q", False)))


def loading_view(state: ModalState) -> dict:
    """Shown at once (Slack's trigger expires in 3 s); replaced when the passages are found."""
    return _view(
        state,
        [{"type": "section", "text": {"type": "mrkdwn", "text": "Leter etter utdrag …"}}],
        submit=False,
    )


def label_view(
    state: ModalState, question: str | None, candidates: Sequence[Candidate], note: str = ""
) -> dict:
    """The modal with the first `state.shown` candidates."""
    blocks: list[dict] = []
    if state.ask_question:
        blocks.append(
            {
                "type": "input",
                "block_id": QUESTION_BLOCK,
                "label": {"type": "plain_text", "text": "Spørsmålet"},
                "hint": {
                    "type": "plain_text",
                    "text": "Spørsmålsteksten lagres ikke her; skriv den, og trykk «Vis utdrag».",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 1000,
                    **({"initial_value": question} if question else {}),
                },
            }
        )
    else:
        blocks.append(_section(f"*Spørsmålet:* «{escape(_clip(question or '', 1000))}»"))
    shown = list(candidates[: min(state.shown, MAX_SHOWN)])
    if note:
        blocks.append(_context(note))
    if shown:
        blocks.append(
            _context(
                "Utdragene jeg vurderte, best først. Kryss av for utdraget (eller utdragene) som "
                "svarer på spørsmålet."
            )
        )
    elif not state.ask_question:
        blocks.append(_context("Jeg fant ingen utdrag å vise for dette spørsmålet."))
    for page in range(0, len(shown), PAGE):
        part = shown[page : page + PAGE]
        for n, candidate in enumerate(part, start=page + 1):
            blocks.append(_section(_candidate_text(n, candidate)))
        options = [_option(n, c) for n, c in enumerate(part, start=page + 1) if _fits_value(c.key)]
        if options:
            blocks.append(
                {
                    "type": "input",
                    "block_id": PICK_BLOCK.format(page // PAGE),
                    "optional": True,
                    "label": {
                        "type": "plain_text",
                        "text": f"Svarer (utdrag {page + 1}–{page + len(part)})",
                    },
                    "element": {"type": "checkboxes", "action_id": "value", "options": options},
                }
            )
    more = len(candidates) > len(shown) and len(shown) < MAX_SHOWN
    if more or state.ask_question:
        text = "Vis flere" if shown else "Vis utdrag"
        blocks.append(
            {
                "type": "actions",
                "block_id": "hfbot_label_actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": text},
                        "action_id": SHOW_MORE,
                        "value": "more",
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": MUST_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Nøyaktige ord i svaret (valgfritt)"},
            "hint": {
                "type": "plain_text",
                "text": "Ord et riktig svar må inneholde, én per linje, slik de står i utdraget.",
            },
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 500,
            },
        }
    )
    blocks.append(
        {
            "type": "input",
            "block_id": NONE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Eller"},
            "hint": {
                "type": "plain_text",
                "text": "Et bekreftet spørsmål uten svar: boten skal si at den ikke vet. "
                "Kanskje mangler et dokument?",
            },
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [
                    {
                        "text": {"type": "plain_text", "text": "Står ikke i dokumentene"},
                        "value": UNANSWERABLE,
                    }
                ],
            },
        }
    )
    return _view(state, blocks[:VIEW_BLOCK_LIMIT], submit=True)


@dataclass
class Submission:
    question: str | None
    keys: list[str] = field(default_factory=list)
    must: list[str] = field(default_factory=list)
    unanswerable: bool = False


def read_submission(view: dict) -> Submission:
    """What the admin ticked and typed, from view.state.values."""
    values = (view.get("state") or {}).get("values") or {}
    keys: list[str] = []
    for block_id, actions in values.items():
        if block_id.startswith(PICK_BLOCK.format("")):
            for option in (actions.get("value") or {}).get("selected_options") or []:
                keys.append(str(option.get("value")))
    must_text = str(((values.get(MUST_BLOCK) or {}).get("value") or {}).get("value") or "")
    none = ((values.get(NONE_BLOCK) or {}).get("value") or {}).get("selected_options") or []
    question = ((values.get(QUESTION_BLOCK) or {}).get("value") or {}).get("value")
    return Submission(
        question=" ".join(str(question).split()) if question else None,
        keys=keys,
        must=[line.strip() for line in must_text.splitlines() if line.strip()],
        unanswerable=any(o.get("value") == UNANSWERABLE for o in none),
    )


# ---- pieces --------------------------------------------------------------------------------------


def _view(state: ModalState, blocks: list[dict], *, submit: bool) -> dict:
    view = {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": TITLE},
        "close": {"type": "plain_text", "text": "Avbryt"},
        "private_metadata": state.dump(),
        "blocks": blocks,
    }
    if submit:
        view["submit"] = {"type": "plain_text", "text": "Lagre"}
    return view


def source_text(candidate: Candidate) -> str:
    parts = [escape(candidate.title), format_date(candidate.date, candidate.date_approximate)]
    if candidate.section:
        parts.append(escape(candidate.section))
    return " — ".join(parts)


def _candidate_text(n: int, candidate: Candidate) -> str:
    text = f"*{n}.* {escape(_clip(candidate.text, PASSAGE_CHARS))}\n_{source_text(candidate)}_"
    return _clip(text, TEXT_LIMIT)


def _option(n: int, candidate: Candidate) -> dict:
    label = _clip(f"{n}. {' '.join(candidate.text.split())}", OPTION_TEXT_LIMIT)
    return {"text": {"type": "plain_text", "text": label}, "value": candidate.key}


def _fits_value(key: str) -> bool:
    return 0 < len(key) <= OPTION_VALUE_LIMIT


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, TEXT_LIMIT)}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, TEXT_LIMIT)}]}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
