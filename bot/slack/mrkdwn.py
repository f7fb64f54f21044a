"""Slack mrkdwn: escaping, safe links, and a little Markdown → mrkdwn conversion.

Broken citation links are the most reported bug of comparable bots, so every piece of document
text that reaches Slack goes through `escape` and every url through `link`.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

SECTION_LIMIT = 3000  # characters in one Block Kit section's text

_MD_LINK = re.compile(r"\[([^\]\n]{1,300})\]\((https?://[^\s()]+(?:\([^\s()]*\)[^\s()]*)*)\)")
_MD_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_BULLET = re.compile(r"^(\s*)[-*] (?=\S)", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6} +(.+)$", re.MULTILINE)
# Characters kept as they are in a url; everything else (spaces, <, >, |, parentheses, quotes,
# non-ASCII) is percent-encoded so the `<url|label>` syntax cannot break.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~-._"
_LINK_SCHEMES = ("http", "https", "mailto")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str) -> str | None:
    """The url percent-encoded for a `<url|label>` link, or None when it is not a web link."""
    url = url.strip()
    if not url:
        return None
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _LINK_SCHEMES:
        return None
    return quote(url, safe=_URL_SAFE)


def link(url: str, label: str) -> str:
    """A clickable mrkdwn link; the escaped label alone when the url is not usable."""
    shown = escape(label).replace("|", "¦")  # a "|" in the label would end the url early
    target = safe_url(url)
    return f"<{target}|{shown}>" if target else shown


def from_markdown(text: str) -> str:
    """Escape plain/Markdown answer text and turn the common Markdown bits into mrkdwn."""
    parts: list[str] = []
    last = 0
    for match in _MD_LINK.finditer(text):
        parts.append(_convert_plain(text[last : match.start()]))
        parts.append(link(match.group(2), match.group(1)))
        last = match.end()
    parts.append(_convert_plain(text[last:]))
    return "".join(parts)


def _convert_plain(text: str) -> str:
    text = escape(text)
    text = _MD_BOLD.sub(r"*\1*", text)
    text = _HEADING.sub(r"*\1*", text)
    return _BULLET.sub(r"\1• ", text)


def quote_block(text: str) -> str:
    """Text as a mrkdwn block quote, each line prefixed."""
    return "\n".join(
        "&gt; " + line if line.strip() else "&gt;" for line in escape(text).split("\n")
    )


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split text into pieces of at most `limit` characters, at paragraph or line ends if possible.

    Never splits inside a `<url|label>` link or an `&amp;`-style entity.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit
        cut = _avoid_breaking_markup(rest, cut)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def _avoid_breaking_markup(text: str, cut: int) -> int:
    opening = text.rfind("<", 0, cut)
    if opening > text.rfind(">", 0, cut) and opening > 0:
        return opening
    amp = text.rfind("&", max(0, cut - 6), cut)
    if amp != -1 and ";" not in text[amp:cut] and amp > 0:
        return amp
    return cut


_SLACK_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>|<(https?://[^>]+)>")
_SLACK_MENTION = re.compile(r"<[@#!][^>]*>")


def plain_text_from_slack(text: str) -> str:
    """What a user typed, from Slack's message text: links as labels, mentions dropped."""
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1) or m.group(3), text or "")
    text = _SLACK_MENTION.sub("", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()
