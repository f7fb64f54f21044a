"""A synthetic Norwegian corpus of health-partnership paperwork, for the scale benchmark.

Meeting minutes, annual reports, agreements, action plans and consultation replies for many
municipalities, partnerships and years: the kind of documents that sit next to the real ones
and compete with them in retrieval. Document i is a pure function of (seed, i), so a corpus
of n documents is a prefix of every larger one and can grow in place.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

MUNICIPALITIES = [
    "Asker", "Bærum", "Drammen", "Lier", "Øvre Eiker", "Modum", "Sigdal", "Krødsherad",
    "Ringerike", "Hole", "Jevnaker", "Kongsberg", "Flesberg", "Rollag", "Nore og Uvdal",
    "Flå", "Nesbyen", "Gol", "Hemsedal", "Ål", "Hol", "Holmestrand", "Sande", "Svelvik",
    "Røyken", "Hurum", "Nedre Eiker", "Lunner", "Gran", "Hamar", "Ringsaker", "Lillehammer",
    "Gjøvik", "Elverum", "Kongsvinger", "Tønsberg", "Sandefjord", "Larvik", "Horten",
    "Færder", "Porsgrunn", "Skien", "Notodden", "Fredrikstad", "Sarpsborg", "Halden",
    "Moss", "Indre Østfold", "Lillestrøm", "Ullensaker", "Nordre Follo", "Ås", "Eidsvoll",
]  # fmt: skip

PARTNERSHIPS = [
    ("Helsefellesskapet Innlandet", "Sykehuset Innlandet HF"),
    ("Helsefellesskap Vestfold", "Sykehuset i Vestfold HF"),
    ("Helsefellesskapet Telemark", "Sykehuset Telemark HF"),
    ("Helsefellesskapet i Østfold", "Sykehuset Østfold HF"),
    ("Helsefellesskapet Akershus", "Akershus universitetssykehus HF"),
    ("Samhandlingsutvalget Ringerike", "Ringerike sykehus"),
    ("Helsefellesskap Vest-Viken", "Vestre Viken HF"),
    ("Kommunehelsesamarbeidet Midt-Buskerud", "Vestre Viken HF"),
    ("Helsesamarbeidet Hallingdal", "Vestre Viken HF"),
    ("Samarbeidsforum Kongsbergregionen", "Kongsberg sykehus"),
]

BODIES = [
    "strategisk samarbeidsutvalg", "partnerskapsmøtet", "overordnet samarbeidsutvalg",
    "faglig samarbeidsutvalg for psykisk helse og rus", "faglig samarbeidsutvalg for barn og unge",
    "faglig samarbeidsutvalg for skrøpelige eldre",
    "faglig samarbeidsutvalg for personer med flere kroniske lidelser",
    "samhandlingsutvalget", "brukerrådet", "klinisk samarbeidsutvalg", "praksiskonsulentordningen",
    "arbeidsgruppen for digital samhandling", "legevaktsrådet", "kompetansenettverket",
]  # fmt: skip

TOPICS = [
    "utskrivningsklare pasienter", "kommunale akutte døgnplasser (KAD)", "legevaktsamarbeid",
    "rehabilitering etter sykehusopphold", "digital hjemmeoppfølging", "ambulansetjenesten",
    "jordmortjenesten", "svangerskaps- og barselomsorg", "barnevern og helse",
    "rus og psykisk helse", "FACT-team", "samhandlingsavvik", "kompetanseutvikling",
    "rekruttering av fastleger", "pasientforløp for skrøpelige eldre", "e-helse og meldingsløftet",
    "felles journalløsning", "beredskapsplaner", "smittevern", "lindrende behandling",
    "habilitering av barn", "ernæring i sykehjem", "legemiddelgjennomgang",
    "velferdsteknologi", "tolketjenester", "ungdomshelse", "selvmordsforebygging",
    "demensomsorg", "kreftkoordinatorer", "hjerterehabilitering", "diabetesoppfølging",
    "samvalg", "innbyggertjenester", "helsestasjon for ungdom", "tannhelse",
    "arbeidsretta rehabilitering", "overgang fra barne- til voksenpsykiatri",
]  # fmt: skip

VERBS = [
    "drøftet",
    "vedtok",
    "ba om en utredning av",
    "tok til orientering",
    "støttet",
    "utsatte behandlingen av",
    "ga innspill til",
    "godkjente",
    "prioriterte",
    "evaluerte",
]
ACTIONS = [
    "etablere en felles arbeidsgruppe", "revidere tjenesteavtalen", "utvide pilotprosjektet",
    "styrke samarbeidet med fastlegene", "utarbeide et felles pasientforløp",
    "gjennomføre en brukerundersøkelse", "ansette en prosjektleder i 50 prosent stilling",
    "søke om midler fra Helsedirektoratet", "samordne opplæringen av helsepersonell",
    "rapportere avvik kvartalsvis", "innføre digitale innkallinger", "kartlegge kapasiteten",
    "opprette et ambulant team", "holde et felles fagseminar", "evaluere ordningen etter ett år",
]  # fmt: skip
FIRST = [
    "Kari", "Ola", "Ingrid", "Per", "Anne", "Lars", "Marit", "Hans", "Silje", "Jon", "Tone",
    "Bjørn", "Hilde", "Erik", "Randi", "Trond", "Liv", "Geir", "Nina", "Knut", "Mona", "Arne",
    "Siri", "Espen", "Heidi", "Odd", "Berit", "Rune", "Guro", "Terje", "Aslak", "Sigrid",
]  # fmt: skip
LAST = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
    "Lund", "Sørensen", "Solberg", "Strand", "Moen", "Bakken", "Kristoffersen", "Lie", "Rud",
]  # fmt: skip
ROLES = [
    "kommunalsjef for helse og omsorg", "kommunedirektør", "ordfører", "fagdirektør",
    "klinikkdirektør", "kommuneoverlege", "samhandlingssjef", "brukerrepresentant",
    "tillitsvalgt lege", "praksiskonsulent", "enhetsleder", "helse- og omsorgssjef",
]  # fmt: skip
KINDS = ["møtereferat", "årsrapport", "samarbeidsavtale", "handlingsplan", "høringsuttalelse"]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _sentence(rng: random.Random, place: str, year: int, focus: str) -> str:
    # Mostly about the section's own topic, as real minutes are, with the odd aside.
    topic = focus if rng.random() < 0.7 else rng.choice(TOPICS)
    templates = [
        lambda: f"Utvalget {rng.choice(VERBS)} forslaget om å {rng.choice(ACTIONS)} innen {topic}.",
        lambda: (
            f"{place} kommune rapporterte {rng.randint(3, 240)} tilfeller knyttet til "
            f"{topic} i {year}, mot {rng.randint(3, 240)} året før."
        ),
        lambda: f"{_name(rng)}, {rng.choice(ROLES)}, orienterte om status for {topic}.",
        lambda: (
            f"Det ble pekt på at kapasiteten innen {topic} er presset, særlig i "
            f"{rng.choice(['sommermånedene', 'helgene', 'høstferien', 'julen', 'vinterhalvåret'])}."
        ),
        lambda: (
            f"Budsjettet for {topic} er satt til {rng.randint(2, 95) * 100_000:,} kroner "
            f"for {year + 1}.".replace(",", " ")
        ),
        lambda: (
            f"Andelen pasienter med {topic} som fikk oppfølging innen {rng.randint(2, 30)} "
            f"dager, var {rng.randint(40, 99)} prosent."
        ),
        lambda: (
            f"Arbeidsgruppen for {topic} skal legge fram en rapport innen "
            f"{rng.choice(['1. mars', '15. april', '1. juni', '1. september', '1. desember'])}."
        ),
        lambda: (
            f"Kommunene i {rng.choice(['Hallingdal', 'Numedal', 'Midt-Buskerud', 'Vestfold', 'Solør', 'Valdres', 'Follo', 'Romerike'])} "  # noqa: E501
            f"ønsker et tettere samarbeid om {topic}."
        ),
        lambda: (
            f"Brukerrepresentanten understreket betydningen av forutsigbarhet og god "
            f"informasjon til pårørende om {topic}."
        ),
        lambda: (
            f"Saken om {topic} sendes til behandling i {rng.choice(BODIES)} i "
            f"{rng.choice(['februar', 'april', 'juni', 'september', 'november'])}."
        ),
    ]
    return rng.choice(templates)()


def _section(rng: random.Random, place: str, year: int, topic: str, sentences: int) -> str:
    return " ".join(_sentence(rng, place, year, topic) for _ in range(sentences))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _document(rng: random.Random) -> tuple[str, str]:
    """(file stem, markdown text) of one plausible partnership document."""
    kind = rng.choice(KINDS)
    partnership, hospital = rng.choice(PARTNERSHIPS)
    place = rng.choice(MUNICIPALITIES)
    year = rng.randint(2008, 2025)
    day = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
    body = rng.choice(BODIES)
    members = rng.randint(8, 46)
    if kind == "møtereferat":
        title = f"Referat fra møte i {body} – {partnership}"
    elif kind == "årsrapport":
        title = f"Årsrapport {year} for {body} i {partnership}"
    elif kind == "samarbeidsavtale":
        title = f"Tjenesteavtale {rng.randint(1, 11)} mellom {place} kommune og {hospital}"
    elif kind == "handlingsplan":
        title = f"Handlingsplan {year}–{year + 3}: {rng.choice(TOPICS)} i {partnership}"
    else:
        title = f"Høringsuttalelse fra {place} kommune om {rng.choice(TOPICS)}"
    lines = [
        f"# {title}",
        "",
        f"Publisert {day.strftime('%d.%m.%Y')}",
        "",
        f"{partnership} er et samarbeid mellom {hospital} og {members} kommuner. "
        f"Dokumentet gjelder {place} og er utarbeidet av sekretariatet.",
        "",
    ]
    for n in range(1, rng.randint(5, 14) + 1):
        topic = rng.choice(TOPICS)
        if kind == "møtereferat":
            heading = f"Sak {n}/{year % 100:02d}: {_capital(topic)}"
        elif kind == "samarbeidsavtale":
            heading = f"§ {n} {_capital(topic)}"
        else:
            heading = f"{n}. {_capital(topic)}"
        lines += [f"## {heading}", "", _section(rng, place, year, topic, rng.randint(3, 7)), ""]
        if rng.random() < 0.3:
            lines += [f"- {_capital(rng.choice(ACTIONS))}" for _ in range(rng.randint(2, 4))]
            lines.append("")
    stem = f"{kind}-{year}-{place}-{day.isoformat()}".lower().replace(" ", "-")
    return stem, "\n".join(lines)


def write_documents(folder: Path, start: int, stop: int, seed: int = 2024) -> list[Path]:
    """Write documents start..stop-1 into `folder` (grouped by hundred) and return their paths."""
    paths: list[Path] = []
    for i in range(start, stop):
        rng = random.Random(seed * 1_000_003 + i)
        stem, text = _document(rng)
        path = folder / f"{i // 100:03d}" / f"{i:06d}-{stem}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
