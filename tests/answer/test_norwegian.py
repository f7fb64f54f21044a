"""Norwegian analysis: bokmål, nynorsk, English and OCR spellings meet in the same terms."""

from __future__ import annotations

from bot.norwegian import analyze, content_terms, query_terms, question_terms


def test_inflections_of_a_word_share_one_term() -> None:
    assert len(set(analyze("kommune kommunen kommuner kommunene"))) == 1
    assert analyze("partnerskapsmøtet") == analyze("partnerskapsmøte")


def test_the_noun_of_an_ere_verb_meets_the_verb() -> None:
    assert analyze("organisering") == analyze("organisert") == analyze("organiseres")
    assert analyze("vurderingen") == analyze("vurdert")
    assert analyze("styring") != analyze("styrt")  # only -ering nouns are touched


def test_the_common_misspelling_of_fellesskap_meets_the_word() -> None:
    assert analyze("Helsefelleskapet") == analyze("helsefellesskapet")


def test_nynorsk_forms_meet_bokmal_ones() -> None:
    assert analyze("sjukehuset") == analyze("sykehus")
    assert analyze("kommunar") == analyze("kommuner")
    assert analyze("administrerande") == analyze("administrerende")


def test_ocr_spellings_without_norwegian_letters_meet_the_real_ones() -> None:
    assert analyze("Statssekretaer") == analyze("statssekretær")
    assert analyze("Baerum") == analyze("Bærum")


def test_english_domain_words_map_to_the_documents_norwegian() -> None:
    assert analyze("partnership meeting") == analyze("partnerskapsmøte")
    assert set(analyze("municipalities")) == set(analyze("kommuner"))


def test_question_words_and_fillers_are_not_search_terms() -> None:
    assert content_terms("Hva er KAD-plasser?") == analyze("KAD-plasser")
    assert content_terms("What is the partnership meeting?") == analyze("partnerskapsmøte")
    assert content_terms("Kven er leiar?") == analyze("leiar")


def test_abbreviations_expand() -> None:
    assert set(analyze("stortingsmelding")) <= set(analyze("St. meld 47"))


def test_question_words_bring_the_words_documents_answer_with() -> None:
    (term, alternatives), *_ = question_terms("Hvem sitter i utvalget?")
    assert set(analyze("sammensetning")) <= alternatives
    own, extra = query_terms("Når startet prosjektet?")
    assert set(analyze("oppstart")) <= set(extra)
    assert not set(extra) & set(own)
