"""Rendering and small pieces that need no server: mrkdwn safety, splitting, config checks."""

from __future__ import annotations

import pytest

from bot.slack.app import SlackConfigError, api_base_url, make_web_client
from bot.slack.blocks import (
    MAX_BLOCKS,
    answer_messages,
    format_date,
    paginate,
    section,
    source_line,
)
from bot.slack.listeners.actions import escalation_target
from bot.slack.mrkdwn import (
    SECTION_LIMIT,
    escape,
    from_markdown,
    link,
    plain_text_from_slack,
    split_text,
)
from bot.slack.proxies import proxy_for, websocket_proxy
from bot.slack.ratelimit import RateLimiter
from bot.types import Answer, Citation
from hfbot.network import keep_loopback_direct
from hfbot.settings import load_settings


def _citation(**overrides) -> Citation:
    values = dict(
        n=1,
        file="a.txt",
        title="Tittel",
        date="2024-06-12",
        date_approximate=False,
        location="",
        url="",
        quote="",
    )
    values.update(overrides)
    return Citation(**values)


def test_escape_and_links_survive_markup_characters() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert link("https://x.no/a (b)/c d", "T <1> | & 2") == (
        "<https://x.no/a%20%28b%29/c%20d|T &lt;1&gt; ¦ &amp; 2>"
    )
    assert link("https://x.no/søk?q=æ&r=1", "x") == "<https://x.no/s%C3%B8k?q=%C3%A6&r=1|x>"
    assert link("javascript:alert(1)", "Klikk") == "Klikk"
    assert link("", "Bare tekst") == "Bare tekst"


def test_markdown_from_an_llm_becomes_mrkdwn() -> None:
    text = "**Viktig**: se [avtalen (2024)](https://x.no/a_(b)) & mer\n- punkt en\n## Overskrift"
    assert from_markdown(text) == (
        "*Viktig*: se <https://x.no/a_%28b%29|avtalen (2024)> &amp; mer\n• punkt en\n*Overskrift*"
    )


def test_split_text_keeps_pieces_under_the_limit_and_links_whole() -> None:
    link_text = link("https://example.org/" + "x" * 60, "lenke")
    text = " ".join([f"ord{n} {link_text}" for n in range(400)])
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(p) <= SECTION_LIMIT for p in pieces)
    for piece in pieces:
        assert piece.count("<") == piece.count(">")  # no link cut in half
    assert " ".join(pieces).split() == text.split()
    assert split_text("kort") == ["kort"]
    one_word = "x" * 7000
    assert [len(p) for p in split_text(one_word)] == [3000, 3000, 1000]


def test_paginate_caps_blocks_per_message_and_keeps_a_fallback() -> None:
    blocks = [section(f"del {n}") for n in range(120)]
    messages = paginate(blocks, "svar")
    assert [len(m.blocks) for m in messages] == [50, 50, 20]
    assert all(m.text for m in messages)
    assert [b for m in messages for b in m.blocks] == blocks


def test_abstention_lists_closest_documents_once() -> None:
    closest = [_citation(title="Årsrapport 2024", url="https://x.no/r")]
    answer = Answer(
        question="Hva koster parkering?",
        text="Jeg finner ikke svar på dette.\nNærmeste dokumenter:\n- Årsrapport 2024 (2024-06-12)",
        abstained=True,
        closest=closest,
    )
    (message,) = answer_messages(answer, "id1")
    rendered = "\n".join(b["text"]["text"] for b in message.blocks if b["type"] == "section")
    assert rendered.count("Årsrapport 2024") == 1
    assert "*Nærmeste dokumenter*" in rendered and "<https://x.no/r|Årsrapport 2024>" in rendered
    assert message.text.count("Årsrapport 2024") == 1
    actions = message.blocks[-1]
    assert "hfbot_show_quotes" not in [e["action_id"] for e in actions["elements"]]


def test_dates_and_source_lines() -> None:
    assert format_date("2024-06-12", False) == "12.06.2024"
    assert format_date("2011-01-01", True) == "ca. 2011"
    assert format_date("2018-06-14", True) == "ca. 14.06.2018"
    assert format_date("", False) == "udatert"
    line = source_line(_citation(n=2, title="A & B", location="side 3"))
    assert line == "*[2]* A &amp; B — 12.06.2024 — side 3"
    assert source_line(_citation(title="T", file="f.pdf")).endswith("— `f.pdf`")


def test_plain_text_from_slack_message_text() -> None:
    text = "<@UBOT> Hva står i <https://x.no/a|avtalen> om &lt;2024&gt; &amp; <#C1|kanal>?"
    assert plain_text_from_slack(text) == "Hva står i avtalen om <2024> & ?"


def test_slack_api_url_must_end_in_api(monkeypatch: pytest.MonkeyPatch) -> None:
    for good in ("https://slack.com/api/", "https://slack-gov.com/api", "http://127.0.0.1:9/api/"):
        monkeypatch.setenv("SLACK_API_URL", good)
        assert api_base_url(load_settings()).endswith("/api/")
    for bad in ("https://slack.com/", "ftp://slack.com/api/"):
        monkeypatch.setenv("SLACK_API_URL", bad)
        with pytest.raises(SlackConfigError, match="/api/"):
            api_base_url(load_settings())
    monkeypatch.delenv("SLACK_API_URL")
    assert api_base_url(load_settings()) == "https://slack.com/api/"


def test_no_proxy_is_honoured_for_the_web_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert proxy_for("http://127.0.0.1:8080/api/") is None
    assert proxy_for("https://slack.com/api/") == "http://proxy.example:3128"
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:8080/api/")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    client = make_web_client(load_settings())
    assert client.proxy is None and client.base_url == "http://127.0.0.1:8080/api/"
    assert {type(h).__name__ for h in client.retry_handlers} >= {
        "RateLimitErrorRetryHandler",
        "ConnectionErrorRetryHandler",
    }


def test_loopback_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI machines set a proxy for the package registries and no NO_PROXY at all.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    for url in ("http://127.0.0.1:8080/api/", "http://localhost:1/api/", "http://[::1]:2/api/"):
        assert proxy_for(url) is None
    assert websocket_proxy("ws://127.0.0.1:9/link") is None
    assert websocket_proxy("wss://wss-primary.slack.com/link") is True
    assert proxy_for("https://slack.com/api/") == "http://proxy.example:3128"


def test_a_configured_proxy_gets_loopback_added_to_no_proxy() -> None:
    env = {"HTTPS_PROXY": "http://proxy.example:3128", "no_proxy": "intern.vestreviken.no"}
    keep_loopback_direct(env)
    assert env["NO_PROXY"] == env["no_proxy"] == "intern.vestreviken.no,localhost,127.0.0.1,::1"
    untouched: dict[str, str] = {}
    keep_loopback_direct(untouched)
    assert untouched == {}


def test_rate_limiter_is_a_sliding_window_per_user() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.allow("U1") and limiter.allow("U1")
    assert not limiter.allow("U1")
    assert limiter.allow("U2")
    assert limiter.retry_after("U1") == pytest.approx(60.0)
    now[0] = 60.5
    assert limiter.allow("U1")
    assert RateLimiter(0).allow("U1")  # 0 turns it off


def test_escalation_target_accepts_a_channel_and_a_group_to_mention() -> None:
    assert escalation_target("C123") == ("C123", "")
    assert escalation_target("C123 S456") == ("C123", "<!subteam^S456>")
    assert escalation_target("S456,C123,U9") == ("C123", "<!subteam^S456> <@U9>")


def test_message_limits_hold_for_any_answer_size() -> None:
    answer = Answer(
        question="q",
        text="lang tekst " * 30_000,
        abstained=False,
        citations=[_citation(n=n) for n in range(1, 40)],
    )
    messages = answer_messages(answer, "id", escalation=True)
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert all(len(b.get("text", {}).get("text", "")) <= SECTION_LIMIT for b in message.blocks)
    assert messages[-1].blocks[-1]["type"] == "actions"
