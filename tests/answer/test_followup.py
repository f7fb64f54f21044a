"""Follow-ups: short elliptic questions borrow what they leave out from the previous question."""

from __future__ import annotations

from bot.followup import contextualize
from bot.types import Turn

PREVIOUS = [
    Turn("user", "Hvem innledet på partnerskapsmøtet i 2024?"),
    Turn("assistant", "Statssekretær Karl Kristian Bekeng [1]"),
]


def test_a_new_year_replaces_the_previous_questions_year() -> None:
    assert contextualize("Og i 2025?", PREVIOUS) == "Hvem innledet på partnerskapsmøtet i 2025?"


def test_standalone_questions_are_left_alone() -> None:
    question = "Hvor mange ansatte har Vestre Viken HF?"
    assert contextualize(question, PREVIOUS) == question
    assert contextualize("Og i 2025?", []) == "Og i 2025?"


def test_pronoun_follow_up_carries_the_previous_question() -> None:
    merged = contextualize("Hvor var det?", PREVIOUS)
    assert merged.startswith("Hvor var det?") and "partnerskapsmøtet" in merged


def test_only_user_turns_count_as_context() -> None:
    history = [Turn("user", "Hva er KAD-plasser?"), Turn("assistant", "Kommunal akutt … [1]")]
    assert "KAD-plasser" in contextualize("Og hva med FACT?", history)
