"""Quotable units: sentences, list items and headings, aligned with the repaired search text."""

from __future__ import annotations

from ingest.units import search_units, split_sentences, split_units


def test_sentences_do_not_split_after_abbreviations_or_ordinals() -> None:
    text = "Reformen kom med St. meld 47 i 2009. Møtet var 14. juni 2018 i Drammen. Adm. dir talte."
    assert split_sentences(text) == [
        "Reformen kom med St. meld 47 i 2009.",
        "Møtet var 14. juni 2018 i Drammen.",
        "Adm. dir talte.",
    ]


def test_nested_items_know_their_parent_and_lists_their_intro() -> None:
    text = "# Aktiviteter\n\n- **FACT ung**\n  - Oppstart 2021\n- FAST\n  - Pilot\n"
    units = split_units(text)
    by_text = {u.text: u for u in units}
    assert by_text["Aktiviteter"].kind == "heading"
    start = by_text["Oppstart 2021"]
    assert start.kind == "item" and start.depth == 1
    assert units[start.parent].text == "FACT ung"  # emphasis markers dropped, words kept
    assert units[by_text["FACT ung"].parent].text == "Aktiviteter"
    assert start.heading == "Aktiviteter"


def test_plain_text_headings_known_from_ingest_are_headings() -> None:
    units = split_units("Barn\nPartene er enige. Barn skal vies oppmerksomhet.", ["Barn"])
    assert [(u.kind, u.text) for u in units] == [
        ("heading", "Barn"),
        ("sentence", "Partene er enige."),
        ("sentence", "Barn skal vies oppmerksomhet."),
    ]


def test_wrapped_prose_lines_join_into_sentences() -> None:
    units = split_units("Vestre\nViken sikrer at midler\navsettes. Neste setning.")
    assert [u.text for u in units] == ["Vestre Viken sikrer at midler avsettes.", "Neste setning."]


def test_ocr_bullets_are_items_only_in_a_run() -> None:
    units = split_units("Hovedgrep:\ne Tiltak for a rekruttere\n¢ Endre finansieringen\n")
    assert [u.kind for u in units] == ["sentence", "item", "item"]
    assert [u.kind for u in split_units("e.g. one line")] == ["sentence"]


def test_search_units_align_repaired_text_with_the_faithful_units() -> None:
    faithful = "Partnerskapsmate 2024\nPartnerskapsmatet ble gjennomfgrt 7. juni pa Union scene."
    repaired = "Partnerskapsmåte 2024\nPartnerskapsmøtet ble gjennomført 7. juni på Union scene."
    heading = ["Partnerskapsmate 2024"]
    units = split_units(faithful, heading)
    aligned = search_units(faithful, f"Partnerskapsmåte 2024\n{repaired}", heading)
    assert len(aligned) == len(units)
    assert units[1].text.startswith("Partnerskapsmatet ble gjennomfgrt")
    assert aligned[1] == "Partnerskapsmøtet ble gjennomført 7. juni på Union scene."


def test_a_table_row_is_a_unit_under_its_header_row() -> None:
    text = (
        "## Møteplan 2024\n\n"
        "| Arrangør | Fagleg samarbeidsutval | Partnarskapsmøte |\n"
        "|---|---|---|\n"
        "| Kommunane | 14. februar | – |\n"
        "| Helse Førde | 16. mai | 23. mai |\n\n"
        "Etter tabellen kjem ei setning."
    )
    units = split_units(text)
    header = next(u for u in units if u.text.startswith("| Arrangør"))
    rows = [u for u in units if u.parent == header.position]
    assert [r.text for r in rows] == [
        "| Kommunane | 14. februar | – |",
        "| Helse Førde | 16. mai | 23. mai |",
    ]
    assert all(r.kind == "item" and r.depth == 1 for r in rows)
    assert not any("---" in u.text for u in units)
    assert units[-1].kind == "sentence" and units[-1].parent is None
