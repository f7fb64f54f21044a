"""`hfbot eval` over a corpus of its own, several question files, and where each failure lies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.answer.evaluate import EvalQuestion, score
from bot.retrieval import Hit
from bot.types import Answer, Citation
from hfbot.cli import cli
from ingest.models import DocumentMeta
from ingest.store import StoredChunk
from tests.fakes import FakeEmbedder

OTHER_DOC = (
    "Helsefellesskapet i Telemark\n\n"
    "Partnerskapsmøtet i Telemark holdes to ganger i året i Skien.\n"
    "Brukerombudet kan delta som observatør med talerett.\n"
)


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    """One fake embedder for the whole run, so a test can count what it embedded."""
    fake = FakeEmbedder()
    monkeypatch.setattr("ingest.embedder.make_embedder", lambda settings, model=None: fake)
    return fake


@pytest.fixture
def other_corpus(tmp_path: Path) -> Path:
    """A second corpus folder with its own manifest."""
    folder = tmp_path / "other corpus"
    folder.mkdir()
    (folder / "telemark.md").write_text(OTHER_DOC, encoding="utf-8")
    (folder / "MANIFEST.yaml").write_text(
        "- file: telemark.md\n  title: Helsefellesskapet i Telemark\n  date: 2023-03-01\n",
        encoding="utf-8",
    )
    return folder


def _questions(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


def _sets(tmp_path: Path) -> tuple[Path, Path]:
    first = _questions(
        tmp_path / "seed.yaml",
        [
            {
                "id": "s1",
                "question": "Hvor mange ansatte har Vestre Viken HF?",
                "sources": ["000_83f573777f471351.txt"],
                "must": ["9400"],
            },
            {
                "id": "s2",
                "question": "Hva koster det å parkere ved sykehuset?",
                "kind": "unanswerable",
            },
        ],
    )
    second = _questions(
        tmp_path / "other.yaml",
        [
            {
                "id": "o1",
                "question": "Hvem kan delta som observatør i partnerskapsmøtet i Telemark?",
                "sources": ["telemark.md"],
                "must": ["brukerombudet"],
            },
        ],
    )
    return first, second


def _eval(*args: str):
    return CliRunner().invoke(cli, ["eval", *args], catch_exceptions=False)


def test_eval_over_two_corpus_folders_uses_a_cached_store_of_its_own(
    tmp_path: Path,
    isolated_env: Path,
    corpus_copy: Path,
    other_corpus: Path,
    embedder: FakeEmbedder,
) -> None:
    first, second = _sets(tmp_path)

    result = _eval(str(first), str(second), "--corpus", str(corpus_copy), str(other_corpus))

    assert result.exit_code == 0, result.output
    assert "PASS s1" in result.output and "PASS s2" in result.output
    assert "PASS o1" in result.output  # the second folder's document answers
    assert not isolated_env.exists()  # the user's data dir is never touched
    stores = list((tmp_path / "cache" / "eval-stores").iterdir())
    assert len(stores) == 1 and (stores[0] / "chroma").is_dir()
    assert embedder.calls > 0

    embedder.calls = 0
    again = _eval(str(first), str(second), "--corpus", str(corpus_copy), str(other_corpus))

    assert again.exit_code == 0, again.output
    assert embedder.calls == 0  # the second run re-embeds nothing
    assert list((tmp_path / "cache" / "eval-stores").iterdir()) == stores
    assert again.output.split("\n\n")[-1] == result.output.split("\n\n")[-1]


def test_eval_corpus_store_follows_the_corpus_content(
    tmp_path: Path, corpus_copy: Path, other_corpus: Path, embedder: FakeEmbedder
) -> None:
    first, _ = _sets(tmp_path)
    assert (
        _eval(str(first), "--corpus", str(corpus_copy), "--corpus", str(other_corpus)).exit_code
        == 0
    )
    manifest = other_corpus / "MANIFEST.yaml"
    manifest.write_text(manifest.read_text().replace("2023-03-01", "2023-04-01"))

    result = _eval(str(first), "--corpus", str(corpus_copy), str(other_corpus))

    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "cache" / "eval-stores").iterdir())) == 2  # a manifest edit counts


def test_eval_reports_each_question_file_and_the_total(
    tmp_path: Path, corpus_copy: Path, other_corpus: Path, embedder: FakeEmbedder
) -> None:
    first, second = _sets(tmp_path)

    text = _eval(str(first), str(second), "--corpus", str(corpus_copy), str(other_corpus)).output
    data = json.loads(
        _eval(
            "--json", str(first), str(second), "--corpus", str(corpus_copy), str(other_corpus)
        ).output
    )

    lines = text.splitlines()
    assert "== seed.yaml" in lines and "== other.yaml" in lines
    assert any(line.startswith("seed.yaml") and "2/2 passed" in line for line in lines)
    assert any(line.startswith("other.yaml") and "1/1 passed" in line for line in lines)
    assert any(line.startswith("total") and "3/3 passed" in line for line in lines)
    assert set(data["sets"]) == {"seed.yaml", "other.yaml"}
    assert data["sets"]["seed.yaml"]["questions"] == 2
    assert data["sets"]["other.yaml"]["questions"] == 1
    assert data["summary"]["questions"] == 3 and data["summary"]["passed"] == 3
    assert [r["set"] for r in data["results"]] == ["seed.yaml", "seed.yaml", "other.yaml"]
    assert data["corpus"]["reused"] and data["corpus"]["documents"] == 6


def test_eval_without_corpus_answers_from_the_users_store(
    tmp_path: Path, isolated_env: Path, embedder: FakeEmbedder
) -> None:
    first, _ = _sets(tmp_path)

    result = _eval(str(first))

    assert result.exit_code == 0, result.output
    assert (isolated_env / "chroma").is_dir()
    assert not (tmp_path / "cache").exists()


def test_eval_names_a_missing_corpus_folder(tmp_path: Path, embedder: FakeEmbedder) -> None:
    first, _ = _sets(tmp_path)
    result = CliRunner().invoke(cli, ["eval", str(first), "--corpus", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such folder" in result.output


def test_failed_questions_name_the_step_that_failed(
    tmp_path: Path, corpus_copy: Path, embedder: FakeEmbedder
) -> None:
    questions = _questions(
        tmp_path / "q.yaml",
        [
            {  # its source is not among the retrieved documents
                "id": "r1",
                "question": "Hvor mange ansatte har Vestre Viken HF?",
                "sources": ["not-in-the-corpus.txt"],
                "must": ["9400"],
            },
            {  # the source is found, but the answer lacks what it must say
                "id": "s1",
                "question": "Hvor mange ansatte har Vestre Viken HF?",
                "sources": ["000_83f573777f471351.txt"],
                "must": ["9400", "fjorten tusen"],
            },
            {  # answered although marked as not answerable
                "id": "u1",
                "question": "Hvor mange ansatte har Vestre Viken HF?",
                "kind": "unanswerable",
            },
        ],
    )

    text = _eval(str(questions), "--corpus", str(corpus_copy)).output
    data = json.loads(_eval("--json", str(questions), "--corpus", str(corpus_copy)).output)

    assert "FAIL r1 [retrieval]" in text
    assert "FAIL s1 [selection]" in text
    assert "FAIL u1 [refusal]" in text
    assert "failures: retrieval 1, refusal 1, selection 1, citation 0" in text
    assert {r["id"]: r["failure"] for r in data["results"]} == {
        "r1": "retrieval",
        "s1": "selection",
        "u1": "refusal",
    }
    assert data["summary"]["failures"] == {
        "retrieval": 1,
        "refusal": 1,
        "selection": 1,
        "citation": 0,
    }


# ---- the step a failure is put down to, on answers made up for the purpose -------------------


def _result(abstained: bool, text: str, cited: list[str], retrieved: list[str]):
    from bot.answering import Result

    def citation(file: str) -> Citation:
        return Citation(1, file, file, "", True, "", "", "")

    hits = []
    for n, file in enumerate(retrieved):
        doc = DocumentMeta(doc_id=file, file=file, title=file)
        chunk = StoredChunk(f"{file}::{n}", "tekst", "", doc, "", None, 0, 5, 0)
        hits.append(Hit(chunk=chunk, score=1.0))
    answer = Answer("?", text, abstained, citations=[citation(f) for f in cited])
    return Result(answer, hits)


QUESTION = EvalQuestion(id="q", question="?", sources=("a.md",), must=("42",))


@pytest.mark.parametrize(
    ("result", "step"),
    [
        (_result(False, "Svaret er 42 [1]", ["a.md"], ["a.md"]), None),
        (_result(False, "Svaret er 42 [1]", ["b.md"], ["b.md", "c.md"]), "retrieval"),
        (_result(True, "Jeg finner ikke svar", [], ["b.md", "a.md"]), "refusal"),
        (_result(False, "Svaret er 41 [1]", ["a.md"], ["a.md"]), "selection"),
        (_result(False, "Svaret er 42 [1]", ["b.md"], ["b.md", "a.md"]), "citation"),
    ],
)
def test_failure_step(result, step) -> None:
    scored = score(QUESTION, result)
    assert scored.failure == step and scored.passed == (step is None)


def test_answering_an_unanswerable_question_is_a_refusal_failure() -> None:
    item = EvalQuestion(id="u", question="?", kind="unanswerable")
    assert score(item, _result(False, "Noe [1]", ["a.md"], ["a.md"])).failure == "refusal"
    assert score(item, _result(True, "Jeg finner ikke svar", [], ["a.md"])).failure is None


@pytest.mark.parametrize(
    ("args", "spread"),
    [
        (["q.yaml", "--corpus", "a", "b"], ["q.yaml", "--corpus", "a", "--corpus", "b"]),
        (["--corpus", "a", "--json", "q.yaml"], ["--corpus", "a", "--json", "q.yaml"]),
        (["--corpus=a", "q.yaml"], ["--corpus=a", "q.yaml"]),
        (["--corpus", "a", "q.yaml"], ["--corpus", "a", "q.yaml"]),  # an existing file ends it
        (["q.yaml", "--corpus"], ["q.yaml", "--corpus"]),
    ],
)
def test_corpus_takes_the_folders_up_to_the_next_option_or_file(
    tmp_path: Path, args: list[str], spread: list[str]
) -> None:
    from bot.cli import spread_option

    (tmp_path / "q.yaml").write_text("[]\n")  # the tests run in tmp_path
    assert spread_option(args, "--corpus") == spread
