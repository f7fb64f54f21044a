"""`hfbot doctor`: one line per part, ✓ or ✗ with the fix, exit 0 only when nothing failed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from hfbot.cli import cli
from hfbot.doctor import Doctor, manifest_bot_scopes
from hfbot.settings import REPO_ROOT, Settings, load_settings
from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder
from tests.ship.conftest import FakeHTTP, fill_store


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "slack-app-manifest.yaml"
    path.write_text(
        "display_information:\n  name: hfbot\n"
        "oauth_config:\n  scopes:\n    bot:\n      - app_mentions:read\n      - chat:write\n"
    )
    return path


def _doctor(settings: Settings, manifest: Path, **parts: object) -> Doctor:
    parts.setdefault("embedder", FakeEmbedder())
    parts.setdefault("timeout_s", 20)
    return Doctor(settings, slack_manifest=manifest, **parts)  # type: ignore[arg-type]


def _by_name(doctor: Doctor) -> dict[str, object]:
    return {r.name: r for r in doctor.run()}


def test_everything_configured_passes(
    monkeypatch: pytest.MonkeyPatch,
    manifest: Path,
    fake_slack: FakeHTTP,
    fake_llm: FakeHTTP,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-good")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-good")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    monkeypatch.setenv("HFBOT_LLM", "openai:gpt-4o-mini")
    monkeypatch.setenv("HFBOT_LLM_BASE_URL", fake_llm.url)
    monkeypatch.setenv("HFBOT_LLM_API_KEY", "sk-test")
    settings = load_settings()
    embedder = FakeEmbedder()
    fill_store(settings, embedder)

    results = _doctor(settings, manifest, embedder=embedder).run()

    assert [r.line() for r in results if not r.ok] == []
    assert all(r.status == "ok" for r in results), [r.line() for r in results]
    lines = "\n".join(r.line() for r in results)
    assert "2 documents, 3 chunks" in lines
    assert "dimension 256, matches the store" in lines
    assert {"auth.test", "apps.connections.open"} <= set(fake_slack.requests)
    assert fake_llm.requests  # the LLM really got one call


def test_cli_prints_one_line_per_check_and_exits_1_on_a_problem(settings: Settings) -> None:
    # A fresh data dir holds no documents: the store line fails, the exit code says so.
    result = CliRunner().invoke(cli, ["doctor", "--quick"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("✓ data dir:")
    store_line = next(line for line in lines if "store:" in line)
    assert store_line.startswith("✗") and "fix: run `hfbot ingest`" in store_line
    assert lines[-1] == "1 problem(s) found."


def test_cli_json_and_exit_0_when_all_pass(settings: Settings) -> None:
    fill_store(settings, FakeEmbedder())
    result = CliRunner().invoke(cli, ["doctor", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == ["data dir", "corpus", "slack config", "store"]
    assert {c["status"] for c in report["checks"]} <= {"ok", "skip"}


# ---- one misconfiguration per check ------------------------------------------------------------


def test_data_dir_that_cannot_be_written(tmp_path: Path, manifest: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = load_settings(HFBOT_DATA_DIR=blocker / "data")
    result = _doctor(settings, manifest).check_data_dir()
    assert result.status == "fail" and "HFBOT_DATA_DIR" in result.fix


def test_missing_corpus_folder(tmp_path: Path, manifest: Path) -> None:
    settings = load_settings(HFBOT_CORPUS_DIR=tmp_path / "nowhere")
    result = _doctor(settings, manifest).check_corpus()
    assert result.status == "fail" and "HFBOT_CORPUS_DIR" in result.fix


def test_manifest_that_does_not_parse(corpus_copy: Path, manifest: Path) -> None:
    (corpus_copy / "MANIFEST.yaml").write_text("- file: a.txt\n  title: [unclosed\n")
    result = _doctor(load_settings(HFBOT_CORPUS_DIR=corpus_copy), manifest).check_corpus()
    assert result.status == "fail"
    assert "not valid YAML (line" in result.detail and "MANIFEST.yaml" in result.fix


def test_manifest_with_a_date_ingest_would_reject(corpus_copy: Path, manifest: Path) -> None:
    with (corpus_copy / "MANIFEST.yaml").open("a") as f:
        f.write("- file: 000_83f573777f471351.txt\n  title: Igjen\n  date: 31.02.2020\n")
    result = _doctor(load_settings(HFBOT_CORPUS_DIR=corpus_copy), manifest).check_corpus()
    assert result.status == "fail" and "is not a date" in result.detail


def test_manifest_naming_a_missing_file(corpus_copy: Path, manifest: Path) -> None:
    with (corpus_copy / "MANIFEST.yaml").open("a") as f:
        f.write("- file: borte.pdf\n  title: Borte\n")
    result = _doctor(load_settings(HFBOT_CORPUS_DIR=corpus_copy), manifest).check_corpus()
    assert result.status == "fail" and "borte.pdf" in result.detail


def test_http_mode_without_signing_secret(monkeypatch: pytest.MonkeyPatch, manifest: Path) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-good")
    result = _doctor(load_settings(), manifest).check_slack_config()
    assert result.status == "fail" and "SLACK_SIGNING_SECRET is missing" in result.detail


def test_unreachable_database(manifest: Path) -> None:
    from tests.conftest import free_port

    url = f"postgresql+psycopg://hfbot@127.0.0.1:{free_port()}/hfbot"
    result = _doctor(load_settings(HFBOT_DATABASE_URL=url), manifest).check_database()
    assert result.status == "fail" and "HFBOT_DATABASE_URL" in result.fix


@pytest.mark.postgres
def test_postgres_database_answers(manifest: Path) -> None:
    url = os.environ.get("HFBOT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("HFBOT_TEST_DATABASE_URL not set (.ci/run starts a PostgreSQL)")
    result = _doctor(load_settings(HFBOT_DATABASE_URL=url), manifest).check_database()
    assert result.status == "ok", result.line()


def test_chroma_server_not_running(manifest: Path) -> None:
    from tests.conftest import free_port

    settings = load_settings(CHROMA_HOST="127.0.0.1", CHROMA_PORT=free_port())
    result = _doctor(settings, manifest).check_store()
    assert result.status == "fail"
    assert "unavailable" in result.detail and "CHROMA_HOST" in result.fix


@pytest.mark.slow
def test_store_on_a_real_chroma_server(
    chroma_server: tuple[str, int], manifest: Path, tmp_path: Path
) -> None:
    host, port = chroma_server
    settings = load_settings(CHROMA_HOST=host, CHROMA_PORT=port, HFBOT_COLLECTION="doctor")
    fill_store(settings, FakeEmbedder())
    result = _doctor(settings, manifest).check_store()
    assert result.status == "ok", result.line()
    assert f"Chroma server {host}:{port}: 2 documents, 3 chunks" in result.detail


def test_interrupted_ingest_is_reported(settings: Settings, manifest: Path) -> None:
    fill_store(settings, FakeEmbedder()).mark_pending("a.txt")
    result = _doctor(settings, manifest).check_store()
    assert result.status == "fail" and "run `hfbot ingest`" in result.fix


# `hfbot ingest --rebuild` in another process, killed after filling its new generation and
# before switching readers to it, as a rebuild cut short by a crash or a redeploy.
KILLED_REBUILD = textwrap.dedent(
    """
    import os, signal
    from hfbot.settings import load_settings
    from ingest.pipeline import run_ingest
    from ingest.store import Store
    from tests.fakes import FakeEmbedder

    def killed(self, built):
        os.kill(os.getpid(), signal.SIGKILL)

    Store.switch_to = killed
    run_ingest(load_settings(), embedder=FakeEmbedder(), rebuild=True)
    """
)


@pytest.fixture
def ingested(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """A corpus of one document, ingested with the fake model the settings name."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kad.txt").write_text(
        "KAD-plasser\n\nKommunale akutte døgnplasser tar imot pasienter som ellers ville "
        "blitt lagt inn på sykehus.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HFBOT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("HFBOT_EMBEDDING_MODEL", "fake")  # what FakeEmbedder records
    settings = load_settings()
    run_ingest(settings, embedder=FakeEmbedder())
    return settings


def _doctor_lines() -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["doctor", "--quick"])
    return result.exit_code, result.output.splitlines()


def test_generations_a_killed_rebuild_left_are_a_warning_until_the_next_ingest(
    ingested: Settings, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_REBUILD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]

    code, lines = _doctor_lines()
    assert code == 0, lines  # the store answers as before: a warning, not a problem
    warning = next(line for line in lines if line.startswith("! store leftovers:"))
    assert "an interrupted `hfbot ingest --rebuild` left 1 generation of the store behind" in (
        warning
    )
    assert "(2 collections: hfbot_g" in warning and "_chunks, hfbot_g" in warning
    assert warning.endswith("the next `hfbot ingest` removes them")
    assert next(line for line in lines if "store:" in line).startswith("✓ store:")
    assert lines[-1] == "All checks passed; 1 warning(s)."

    run_ingest(load_settings(), embedder=FakeEmbedder())  # the next `hfbot ingest`
    code, lines = _doctor_lines()
    assert code == 0 and not any("leftovers" in line for line in lines), lines
    assert lines[-1] == "All checks passed."


def test_a_rebuild_still_at_work_is_not_taken_for_a_leftover(ingested: Settings) -> None:
    with Store.open(ingested) as store:
        building = store.new_generation()  # this process is alive and filling it
        building.set_corpus_version()
        code, lines = _doctor_lines()
    assert code == 0 and not any("leftovers" in line for line in lines), lines
    assert lines[-1] == "All checks passed."


def test_model_dimension_differs_from_the_store(settings: Settings, manifest: Path) -> None:
    fill_store(settings, FakeEmbedder(dimension=256))
    doctor = _doctor(settings, manifest, embedder=FakeEmbedder(dimension=128))
    results = {r.name: r for r in doctor.run()}
    embedding = results["embedding model"]
    assert embedding.status == "fail"
    assert "dimension 256" in embedding.detail and "--rebuild" in embedding.fix


@pytest.mark.slow
def test_model_that_is_not_on_disk(tmp_path: Path, manifest: Path) -> None:
    settings = load_settings(HFBOT_EMBEDDING_MODEL=str(tmp_path / "no-such-model"))
    result = Doctor(settings, slack_manifest=manifest).check_embedding()
    assert result.status == "fail" and "does not load offline" in result.detail


def test_llm_that_errors(
    monkeypatch: pytest.MonkeyPatch, manifest: Path, fake_llm: FakeHTTP
) -> None:
    fake_llm.status = 500
    settings = load_settings(
        HFBOT_LLM="openai:gpt-4o-mini", HFBOT_LLM_BASE_URL=fake_llm.url, HFBOT_LLM_API_KEY="x"
    )
    result = _doctor(settings, manifest).check_llm()
    assert result.status == "fail" and "unset HFBOT_LLM" in result.fix


def test_llm_that_hangs_is_cut_off(manifest: Path, fake_llm: FakeHTTP) -> None:
    fake_llm.delay_s = 5
    settings = load_settings(
        HFBOT_LLM="openai:gpt-4o-mini",
        HFBOT_LLM_BASE_URL=fake_llm.url,
        HFBOT_LLM_API_KEY="x",
        HFBOT_LLM_TIMEOUT=0.5,
    )
    result = _doctor(settings, manifest).check_llm()
    assert result.status == "fail"


def test_check_time_limit(settings: Settings, manifest: Path) -> None:
    import time

    doctor = _doctor(settings, manifest, timeout_s=0.2)

    def check_slow_thing() -> object:
        time.sleep(2)
        raise AssertionError("not reached")

    started = time.monotonic()
    result = doctor._bounded(check_slow_thing)  # type: ignore[arg-type]
    assert time.monotonic() - started < 1.5
    assert result.status == "fail" and "no answer within" in result.detail


def test_revoked_bot_token(
    monkeypatch: pytest.MonkeyPatch, manifest: Path, fake_slack: FakeHTTP
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    result = _doctor(load_settings(), manifest).check_slack_auth()
    assert result.status == "fail" and "invalid_auth" in result.detail
    assert "reinstall" in result.fix


def test_missing_scopes_are_named(
    monkeypatch: pytest.MonkeyPatch, manifest: Path, fake_slack: FakeHTTP
) -> None:
    fake_slack.scopes = "app_mentions:read"
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-good")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    result = _doctor(load_settings(), manifest).check_slack_auth()
    assert result.status == "fail"
    assert "lacks scopes: chat:write" in result.detail and "reinstall" in result.fix


def test_rejected_app_token(
    monkeypatch: pytest.MonkeyPatch, manifest: Path, fake_slack: FakeHTTP
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-good")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-wrong")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    result = _doctor(load_settings(), manifest).check_slack_socket()
    assert result.status == "fail" and "invalid_auth" in result.detail


def test_slack_unreachable(monkeypatch: pytest.MonkeyPatch, manifest: Path) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-good")
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{free_port()}/api/")
    result = _doctor(load_settings(), manifest).check_slack_auth()
    assert result.status == "fail" and "cannot reach" in result.detail


def test_scopes_compared_with_the_repository_manifest(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeHTTP
) -> None:
    path = REPO_ROOT / "slack-app-manifest.yaml"
    if not path.exists():
        pytest.skip("no Slack app manifest in the repository yet")
    scopes = manifest_bot_scopes(path)
    assert "chat:write" in scopes  # a bot that cannot post answers nothing
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-good")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    doctor = Doctor(load_settings(), timeout_s=20)  # the default manifest: the repository's

    fake_slack.scopes = ",".join(scopes)
    assert doctor.check_slack_auth().status == "ok"

    fake_slack.scopes = ",".join(s for s in scopes if s != "chat:write")
    result = doctor.check_slack_auth()
    assert result.status == "fail" and "lacks scopes: chat:write" in result.detail
