"""`hfbot labels import|export|list`: a label file goes into the bot's database and comes out as
a question set `hfbot eval` runs; a label whose passage is gone from the store is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hfbot.cli import cli

pytestmark = pytest.mark.usefixtures("use_fake_embedder")

PASSAGE = (
    "Til sammen deltok rundt 80 deltakere fra de 21 kommunene og Vestre Viken helseforetak som "
    "utgjør helsefellesskapet."
)
LABELS = [
    {
        "id": "deltakere",
        "question": "Hvor mange deltok på det digitale partnerskapsmøtet?",
        "sources": ["003_539dbae2e487e3f7.txt"],
        "must": ["80 deltakere"],
        "passages": [{"file": "003_539dbae2e487e3f7.txt", "text": PASSAGE}],
        "must_marked": True,
        "labelled_by": "UADMIN",
        "labelled_at": "2026-01-05T10:00:00+00:00",
    },
    {
        "id": "endret",
        "question": "Når ble planen vedtatt?",
        "sources": ["003_539dbae2e487e3f7.txt"],
        "must": ["vedtatt 1. mars"],
        "passages": [{"file": "003_539dbae2e487e3f7.txt", "text": "Planen ble vedtatt 1. mars."}],
        "must_marked": True,
    },
    {"id": "parkering", "question": "Hva koster parkering ved Drammen sykehus?",
     "kind": "unanswerable"},
]  # fmt: skip


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_import_export_round_trip_and_eval_runs_the_export(tmp_path: Path) -> None:
    assert _run("ingest").exit_code == 0
    source = tmp_path / "in.yaml"
    source.write_text(yaml.safe_dump(LABELS, allow_unicode=True), encoding="utf-8")

    imported = _run("labels", "import", str(source))
    assert imported.exit_code == 0, imported.output
    assert "Leste inn 3 merkede spørsmål" in imported.output
    # The stale label is named, not silently used.
    assert "1 merkede utdrag finnes ikke lenger" in imported.output
    assert "endret «Når ble planen vedtatt?»: 003_539dbae2e487e3f7.txt: teksten er endret" in (
        imported.output
    )

    listed = _run("labels", "list")
    assert "3 merkede spørsmål." in listed.output
    assert "står ikke i dokumentene" in listed.output

    out = tmp_path / "out.yaml"
    exported = _run("labels", "export", str(out))
    assert exported.exit_code == 0 and "Skrev 3 merkede spørsmål" in exported.output
    entries = yaml.safe_load(out.read_text(encoding="utf-8"))
    for before, after in zip(LABELS, entries, strict=True):
        keys = ("id", "question", "sources", "must", "kind", "passages")
        assert {k: before.get(k) for k in keys} == {k: after.get(k) for k in keys}

    evaluated = _run("eval", str(out))
    assert evaluated.exit_code == 0, evaluated.output
    assert "parkering" in evaluated.output and "questions: 3" in evaluated.output


def test_import_refuses_a_file_that_is_not_a_question_set(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("question: not a list\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["labels", "import", str(bad)])
    assert result.exit_code == 2
    assert "expected a list of questions" in result.output
