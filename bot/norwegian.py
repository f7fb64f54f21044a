"""Norwegian-aware text analysis for lexical search: tokens, stopwords, stems, spelling folds.

Documents are mostly bokmål, some nynorsk, some OCR'd with damaged letters; questions come in
bokmål, nynorsk and English. Everything that meets in the lexical index goes through `analyze`
so both sides agree: nynorsk forms map to bokmål, English domain words map to Norwegian ones,
Snowball's Norwegian stemmer removes inflection, and æ/ø/å fold to ASCII so "Baerum" (OCR)
meets "Bærum".
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_NORWEGIAN

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e"})

# Question words and fillers beyond the Snowball lists: they say what kind of answer is wanted,
# not what it is about (compose reads those cues from the raw question).
_EXTRA_STOPWORD_TEXT = """
    hvilket hvilke hvilken hvor mye mange finnes fins gjelder egentlig ca cirka bl a osv mv mm
    f eks pr per blant annet hverandre får fikk dere oss vår våre vårt sin sine sitt hos hele
    jeg nå idag fortsatt fremdeles gjør gjøre gjorde blitt ble bli blir hvem hva hvorfor når
    tror vet vite fortell forklar
    kva kven kor korleis kvifor kvar kvarandre mykje ikkje eg dykk me vi no framleis blei vart
    fekk noko nokon
    heter het kalles kaller betyr handler står menes ligger
    what who whom whose when where which why how were does do did done many much part today
    now would can could about also been being has have had should shall may might me my you
    your we our us they them their he she his her its there here than then so some any all
    more most get got called mean means stand stands tell please explain know current
    currently still
"""
_EXTRA_STOPWORDS = set(_EXTRA_STOPWORD_TEXT.split())

STOPWORDS: frozenset[str] = frozenset(
    set(STOPWORDS_NORWEGIAN) | set(STOPWORDS_EN) | _EXTRA_STOPWORDS
)

# Nynorsk (and old bokmål) forms that the bokmål stemmer would not bring together with the
# bokmål form. Only words whose stems differ are listed; the rest already meet after stemming.
NYNORSK_TO_BOKMAL: dict[str, str] = {
    "sjukehus": "sykehus",
    "sjukehuset": "sykehus",
    "sjukehusa": "sykehus",
    "sjukepleiar": "sykepleier",
    "sjukepleiarar": "sykepleiere",
    "kommunar": "kommuner",
    "kommunane": "kommunene",
    "tilsette": "ansatte",
    "tilsett": "ansatt",
    "samarbeidsutval": "samarbeidsutvalg",
    "samarbeidsutvala": "samarbeidsutvalg",
    "utval": "utvalg",
    "utvala": "utvalg",
    # One form for "take part" and "participant", bokmål and nynorsk: a question asking who
    # "deltar" should meet a list headed "Deltagere".
    **{
        form: "deltager"
        for form in (
            "delta",
            "deltar",
            "deltok",
            "deltatt",
            "deltek",
            "deltakande",
            "deltakende",
            "deltager",
            "deltagere",
            "deltagerne",
            "deltaker",
            "deltakere",
            "deltakerne",
            "deltakar",
            "deltakarar",
            "deltakarane",
        )
    },
    "møtet": "møte",
    "heile": "hele",
    "berre": "bare",
    "fyrste": "første",
    "saman": "sammen",
    "menneske": "mennesker",
    "innbyggjarar": "innbyggere",
    "innbyggjar": "innbygger",
    "born": "barn",
    "borna": "barn",
    "ungdomar": "ungdom",
    "pasientar": "pasienter",
    "brukarar": "brukere",
    "brukar": "bruker",
    "legar": "leger",
    "fastlegar": "fastleger",
    "ordførarar": "ordførere",
    "ordførar": "ordfører",
    "leiar": "leder",
    "leiarar": "ledere",
    "leiing": "ledelse",
    "verksemd": "virksomhet",
    "tenester": "tjenester",
    "teneste": "tjeneste",
    "helseteneste": "helsetjeneste",
    "helsetenester": "helsetjenester",
    "spesialisthelsetenesta": "spesialisthelsetjenesten",
    "avgjerd": "beslutning",
    "årleg": "årlig",
    "byrja": "startet",
    "starta": "startet",
    "vore": "vært",
    "kvinner": "kvinner",
    "eldre": "eldre",
    "oppgåve": "oppgave",
    "oppgåver": "oppgaver",
    "hjelpe": "hjelpe",
    "psykisk": "psykisk",
    "røyst": "stemme",
    "avtalen": "avtale",
    "administrerande": "administrerende",
    "gjeldande": "gjeldende",
    "møtest": "møtes",
    "møtast": "møtes",
    "kostar": "koster",
    "pengar": "penger",
    "vart": "ble",
}

# English domain words and phrases → the Norwegian terms the documents use. A general glossary
# of the partnership's vocabulary, not a list of answers. Longest phrases are matched first.
ENGLISH_TO_NORWEGIAN: dict[str, str] = {
    "partnership meeting": "partnerskapsmøte",
    "partnership meetings": "partnerskapsmøte",
    "partnership conference": "partnerskapsmøte",
    "health partnership": "helsefellesskap",
    "health community": "helsefellesskap",
    "health communities": "helsefellesskap",
    "strategic cooperation committee": "strategisk samarbeidsutvalg",
    "strategic collaboration committee": "strategisk samarbeidsutvalg",
    "strategic committee": "strategisk samarbeidsutvalg",
    "local cooperation committee": "lokalt samarbeidsutvalg",
    "local collaboration committee": "lokalt samarbeidsutvalg",
    "professional cooperation committee": "faglig samarbeidsutvalg",
    "cooperation committee": "samarbeidsutvalg",
    "collaboration committee": "samarbeidsutvalg",
    "annual report": "årsrapport",
    "coordination reform": "samhandlingsreformen",
    "collaboration reform": "samhandlingsreformen",
    "white paper": "stortingsmelding",
    "general practitioner": "fastlege",
    "general practitioners": "fastleger",
    "user representative": "brukerrepresentant",
    "user representatives": "brukerrepresentanter",
    "mental health": "psykisk helse",
    "substance abuse": "rus",
    "specialist health service": "spesialisthelsetjenesten",
    "specialist health services": "spesialisthelsetjenesten",
    "health services": "helsetjenester",
    "health service": "helsetjeneste",
    "health trust": "helseforetak",
    "hospital trust": "helseforetak",
    "development plan": "utviklingsplan",
    "action plan": "handlingsplan",
    "chief executive": "administrerende direktør",
    "ceo": "administrerende direktør",
    "state secretary": "statssekretær",
    "municipality": "kommune",
    "municipalities": "kommuner",
    "municipal": "kommunal",
    "mayor": "ordfører",
    "mayors": "ordførere",
    "hospital": "sykehus",
    "hospitals": "sykehus",
    "employees": "ansatte",
    "employee": "ansatt",
    "staff": "ansatte",
    "inhabitants": "innbyggere",
    "residents": "innbyggere",
    "population": "innbyggere",
    "agreement": "avtale",
    "agreements": "avtaler",
    "cooperation": "samarbeid",
    "collaboration": "samarbeid",
    "partnership": "helsefellesskap",
    "meeting": "møte",
    "meetings": "møter",
    "members": "medlemmer",
    "member": "medlem",
    "participants": "deltagere",
    "participate": "deltar",
    "participates": "deltar",
    "annual": "årlig",
    "yearly": "årlig",
    "children": "barn",
    "child": "barn",
    "young": "unge",
    "youth": "ungdom",
    "elderly": "eldre",
    "frail": "skrøpelige",
    "patients": "pasienter",
    "patient": "pasient",
    "rehabilitation": "rehabilitering",
    "referral": "henvisning",
    "referrals": "henvisninger",
    "report": "rapport",
    "plan": "plan",
    "priorities": "prioriteringer",
    "priority": "prioritering",
    "project": "prosjekt",
    "projects": "prosjekter",
    "funding": "midler",
    "funds": "midler",
    "grant": "tilskudd",
    "pregnancy": "svangerskap",
    "emergency": "akutt",
    "secretariat": "sekretariat",
    "region": "region",
    "welfare": "velferd",
    "technology": "teknologi",
    "digitalisation": "digitalisering",
    "digitalization": "digitalisering",
    "competence": "kompetanse",
    "recruitment": "rekruttering",
    "director": "direktør",
    "leader": "leder",
    "chair": "leder",
    "represents": "representerer",
    "representatives": "representanter",
    "representative": "representant",
    "employer": "arbeidsgiver",
    "portal": "portal",
    "consumption": "forbruk",
    "usage": "forbruk",
    "model": "modell",
    "reform": "reform",
    "level": "nivå",
    "levels": "nivå",
    "health partnerships": "helsefellesskap",
    "municipal health cooperation": "kommunehelsesamarbeidet",
    "patient groups": "pasientgrupper",
    "patient group": "pasientgruppe",
    "how often": "hvor ofte",
    "often": "ofte",
    "lead": "lede",
    "leads": "leder",
    "led": "ledet",
    "chairs": "leder",
    "chaired": "ledet",
    "chairman": "leder",
    "presented": "presenterte",
    "presents": "presenterer",
    "meet": "møtes",
    "meets": "møtes",
    "met": "møttes",
    "prioritise": "prioritere",
    "prioritize": "prioritere",
    "prioritised": "prioritert",
    "prioritized": "prioritert",
    "norway": "norge",
    "signed": "inngått",
    "entered": "inngått",
    "established": "etablert",
    "founded": "etablert",
    "goal": "mål",
    "goals": "mål",
    "aim": "mål",
    "purpose": "formål",
    "tasks": "oppgaver",
    "responsible": "ansvar",
    "responsibility": "ansvar",
    "organised": "organisert",
    "organized": "organisert",
    "organisation": "organisering",
    "organization": "organisering",
    "development": "utvikling",
    "strategy": "strategi",
    "national": "nasjonal",
    "government": "regjeringen",
    "theme": "tema",
    "topic": "tema",
    "deadline": "frist",
}

# Common abbreviations in public Norwegian documents, expanded on both sides.
ABBREVIATIONS: dict[str, str] = {
    "st. meld.": "stortingsmelding",
    "st. meld": "stortingsmelding",
    "st.meld.": "stortingsmelding",
    "st.meld": "stortingsmelding",
    "meld. st.": "stortingsmelding",
    "adm. dir.": "administrerende direktør",
    "adm. dir": "administrerende direktør",
    "hf": "helseforetak",
}

# Words a question uses for what documents say with other words: "Hvem sitter i utvalget?" is
# answered by its "Sammensetning"; "Når startet X?" by "Oppstart 2021". Question word → the
# document words that answer it (each still needs the rest of the question to match).
QUESTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "sitter": ("sammensetning", "sammensatt", "medlem", "medlemmer", "representant", "består"),
    "sitte": ("sammensetning", "sammensatt", "medlem", "medlemmer", "representant", "består"),
    "startet": ("oppstart", "etablert", "etablering", "igangsatt", "begynte"),
    "begynte": ("oppstart", "etablert", "etablering", "igangsatt", "startet"),
    "penger": ("midler", "millioner", "kroner", "tilskudd", "innvilget", "bevilget"),
    "tall": ("data", "styringsdata", "statistikk", "tallgrunnlag"),
    "statistikk": ("data", "styringsdata", "tall"),
    "ofte": ("ganger", "årlig", "månedlig", "ukentlig", "møtes"),
    "holdt": ("gjennomført", "arrangert", "avholdt"),
    "arrangert": ("gjennomført", "holdt", "avholdt"),
    "ledet": ("leder", "leiar"),
    "deltar": ("omfatter", "medlem", "medlemmer"),
    "hovedtemaet": ("tema", "hovedtema"),
    "tema": ("hovedtema", "temaet"),
}

_stemmer_lock = threading.Lock()
_stemmer = Stemmer.Stemmer("norwegian")
_PHRASES = sorted({**ENGLISH_TO_NORWEGIAN, **ABBREVIATIONS}.items(), key=lambda kv: -len(kv[0]))
_PHRASE_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(p) for p, _ in _PHRASES) + r")(?![\w])", re.IGNORECASE
)
_PHRASE_MAP = {p: n for p, n in _PHRASES}


def fold(term: str) -> str:
    """Fold Norwegian letters to ASCII so OCR'd or keyboard-poor spellings meet the real ones."""
    return term.translate(_FOLD)


def words(text: str) -> list[str]:
    """Lower-cased word tokens; hyphenated compounds also yield their parts."""
    out: list[str] = []
    for match in _WORD.finditer(text.lower()):
        token = match.group(0)
        if "-" in token or "'" in token:
            parts = [p for p in re.split(r"[-']", token) if p]
            out.append("".join(parts))
            out.extend(parts)
        else:
            out.append(token)
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The folded Norwegian stem of one lower-case word (numbers stay as they are)."""
    if _NUMBER.match(word):
        return word
    # Fold first: OCR'd "Statssekretaer" and typed "statssekretær" must stem alike.
    word = fold(NYNORSK_TO_BOKMAL.get(word, word))
    # "Helsefelleskapet" (a common misspelling, in a title of the corpus too) is "fellesskap".
    word = word.replace("sskap", "skap")
    with _stemmer_lock:  # PyStemmer objects are not thread-safe
        stemmed = _stemmer.stemWord(word)
    # The stemmer keeps the noun of an -ere verb apart from the verb: "organisering" must meet
    # "organisert" (and "vurdering" "vurdert", "finansiering" "finansiert").
    if stemmed.endswith("ering") and len(stemmed) > 7:
        return stemmed[:-3]
    return stemmed


def expand_phrases(text: str) -> str:
    """Rewrite English domain phrases and abbreviations into the Norwegian terms they stand for."""

    def _sub(match: re.Match[str]) -> str:
        return _PHRASE_MAP[match.group(0).lower()]

    return _PHRASE_RE.sub(_sub, text)


def analyze(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Text → stemmed, folded search terms (the one analysis both documents and questions use)."""
    text = expand_phrases(text)
    terms: list[str] = []
    for word in words(text):
        if not keep_stopwords and (word in STOPWORDS or len(word) < 2 and not word.isdigit()):
            continue
        terms.append(stem(word))
    return terms


def content_terms(text: str) -> list[str]:
    """The distinct search terms of a question, in order of first appearance."""
    seen: dict[str, None] = {}
    for term in analyze(text):
        seen.setdefault(term, None)
    return list(seen)


def question_terms(question: str) -> list[tuple[str, frozenset[str]]]:
    """The question's search terms, each with the document terms that would answer for it."""
    groups: list[tuple[str, frozenset[str]]] = []
    seen: set[str] = set()
    for word in words(expand_phrases(question)):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        term = stem(word)
        if term in seen:
            continue
        seen.add(term)
        alternatives = {term} | {t for w in QUESTION_SYNONYMS.get(word, ()) for t in analyze(w)}
        groups.append((term, frozenset(alternatives)))
    return groups


def query_terms(question: str) -> tuple[list[str], list[str]]:
    """BM25 queries: the question's own terms, and the alternatives that may answer for them."""
    groups = question_terms(question)
    own = [term for term, _ in groups]
    extra = sorted({t for _, alts in groups for t in alts} - set(own))
    return own, extra


_ENGLISH = re.compile(
    r"\b(what|who|whom|when|where|which|how|is|are|was|were|does|do|did|has|have|can|will|"
    r"many|much|the|an?|of|and|in|to|with|about|from)\b",
    re.IGNORECASE,
)


def looks_english(question: str) -> bool:
    """Whether a question is (mostly) in English."""
    tokens = words(question)
    return bool(tokens) and len(_ENGLISH.findall(question)) >= max(2, len(tokens) // 4)


# What a question asks for, by its question word (bokmål, nynorsk, English), in the order they
# are tried: "hvor mange" asks for a count before "hvor" asks for a place.
QUESTION_WORDS = {
    "who": r"\b(hvem|kven|who|whom)\b",
    "when": r"\b(når|kva tid|kor tid|hvilket år|hvilken dato|when|what year)\b",
    "count": r"\b(hvor|kor) (mange|mye|lang|stor|gammel|høy|langt)\b|\bantall\b|how (many|much)",
    "where": r"\b(hvor|kvar|where)\b",
    "which": r"\b(hvilke[nt]?|kva for|which)\b",
    "how": r"\b(hvordan|korleis|how)\b",
    "why": r"\b(hvorfor|kvifor|why)\b",
    "what": r"\b(hva|kva|what)\b",
}
_QUESTION_WORDS = {name: re.compile(pattern) for name, pattern in QUESTION_WORDS.items()}


def question_word(question: str) -> str:
    """The first of QUESTION_WORDS the question uses ("" for none)."""
    lowered = question.lower()
    return next((name for name, pattern in _QUESTION_WORDS.items() if pattern.search(lowered)), "")
