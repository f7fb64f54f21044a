"""`hfbot ask`, `hfbot chat` and `hfbot eval` as a user runs them (fake embedder, real store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hfbot.cli import cli

pytestmark = pytest.mark.usefixtures("use_fake_embedder")


def _run(*args: str, input: str | None = None):
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result


def test_ask_on_a_fresh_data_dir_ingests_then_answers_with_sources(isolated_env: Path) -> None:
    result = _run("ask", "Hvor mange ansatte har Vestre Viken HF?")
    assert result.exit_code == 0, result.output
    assert "9400" in result.output
    assert "Kilder:" in result.output
    assert "[1] Hvordan kan 2. linjetjenesten" in result.output
    assert "000_83f573777f471351.txt" in result.output


def test_ask_json_has_the_documented_shape() -> None:
    result = _run("ask", "--json", "Hvem presenterte utviklingsplan 2035 på partnerskapsmøtet?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"question", "answer", "abstained", "citations", "timings_ms"}
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    assert "Sommervoll" in data["answer"] and not data["abstained"]
    citation = data["citations"][0]
    assert set(citation) == {"n", "file", "title", "date", "location", "url", "quote"}
    assert citation["file"] == "003_539dbae2e487e3f7.txt"
    assert citation["date"] and citation["quote"]


def test_ask_with_empty_question_explains_what_to_do() -> None:
    result = _run("ask", "   ")
    assert result.exit_code == 0
    assert "Skriv et spørsmål" in result.output


def test_ask_reports_an_unreachable_store_without_a_traceback(monkeypatch) -> None:
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", "9")
    result = CliRunner().invoke(cli, ["ask", "Hva er KAD-plasser?"])
    assert result.exit_code == 1
    assert "Dokumentlageret er ikke tilgjengelig" in result.output
    assert "Traceback" not in result.output


def test_chat_reads_piped_lines_and_keeps_history() -> None:
    result = _run("chat", input="Når var partnerskapsmøtet i 2024?\nOg i 2025?\n\n")
    assert result.exit_code == 0, result.output
    assert "> Når var partnerskapsmøtet i 2024?" in result.output
    assert "7. juni" in result.output
    assert "6. juni 2025" in result.output


def test_eval_reports_pass_fail_and_totals(tmp_path: Path) -> None:
    questions = [
        {
            "id": "q1",
            "question": "Hvor mange ansatte har Vestre Viken HF?",
            "sources": ["000_83f573777f471351.txt"],
            "must": ["9400"],
            "kind": "fact",
        },
        {
            "id": "q2",
            "question": "Hva koster det å parkere ved sykehuset?",
            "sources": [],
            "must": [],
            "kind": "unanswerable",
        },
    ]
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(questions, allow_unicode=True), encoding="utf-8")
    result = _run("eval", str(path))
    assert result.exit_code == 0, result.output
    assert "PASS q1" in result.output and "PASS q2" in result.output
    assert "answer_accuracy: 1.0" in result.output

    data = json.loads(_run("eval", "--json", str(path)).output)
    summary = data["summary"]
    assert summary["answer_accuracy"] == 1.0 and summary["unanswerable_refused"] == 1
    assert summary["false_abstentions"] == 0 and summary["hit_at_5"] == 1.0
    for key in ("citation_accuracy", "hit_at_1", "mrr", "latency_p50_ms", "latency_p95_ms"):
        assert key in summary
    first = data["results"][0]
    assert {"id", "question", "answer", "abstained", "citations", "latency_ms", "passed"} <= set(
        first
    )


def test_eval_rejects_a_malformed_question_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("just: a mapping\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(path)])
    assert result.exit_code == 2
    assert "expected a list of questions" in result.output
