"""The Dockerfile, checked without a Docker engine: lint, the promises it makes, and its commands
run outside Docker with the image's environment."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from hfbot.settings import REPO_ROOT
from tests.ship.conftest import FakeHTTP
from tests.ship.dockerfile import Dockerfile, parse

DOCKERFILE = REPO_ROOT / "Dockerfile"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def image() -> Dockerfile:
    return parse(DOCKERFILE)


def _tool(name: str) -> str:
    found = VENV_BIN / name if (VENV_BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run `pip install -e '.[dev]'`")
    return str(found)


def test_hadolint_finds_nothing() -> None:
    done = subprocess.run(
        [_tool("hadolint"), "--format", "json", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings = json.loads(done.stdout or "[]")
    assert findings == [], "\n".join(
        f"line {f['line']} {f['code']} {f['level']}: {f['message']}" for f in findings
    )
    assert done.returncode == 0, done.stderr


def test_runs_as_a_non_root_user(image: Dockerfile) -> None:
    uid = image.user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {image.user!r}"


def test_torch_is_the_cpu_build_of_the_pinned_version(image: Dockerfile) -> None:
    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = next(d for d in deps if re.match(r"torch\s*==", d)).split("==")[1].strip()
    assert image.args["TORCH_VERSION"] == pinned
    assert image.args["TORCH_INDEX_URL"].endswith("/cpu")
    torch_runs = [r for r in image.runs if "torch==" in r]
    project_runs = [i for i, r in enumerate(image.runs) if "requirements" in r]
    assert torch_runs and image.runs.index(torch_runs[0]) < project_runs[0], (
        "torch must be installed before the project, or pip pulls the CUDA build"
    )


def test_the_model_never_comes_from_the_network(image: Dockerfile) -> None:
    assert image.env.get("HF_HUB_OFFLINE") == "1"
    assert image.env.get("TRANSFORMERS_OFFLINE") == "1"


def test_bundled_corpus_is_ingested_at_build_as_the_bot_user(image: Dockerfile) -> None:
    step = next(i for i, r in enumerate(image.runs) if "hfbot ingest" in r)
    assert image.runs_as[step] == image.user
    assert image.env["HFBOT_DATA_DIR"] == "/data"
    assert image.env["HFBOT_CORPUS_DIR"] == "/app/corpus"


def test_runs_the_bot_and_checks_its_health(image: Dockerfile) -> None:
    assert image.command == ["hfbot", "serve"]
    assert "3000" in image.expose
    assert image.healthcheck, "no HEALTHCHECK"
    assert "/healthz" in " ".join(image.healthcheck)
    assert image.healthcheck_options.get("timeout")


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule, simplified: a pattern matches the path or one of its parents."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        if any(
            fnmatch.fnmatch(c, pattern) or fnmatch.fnmatch(c, pattern.removeprefix("**/"))
            for c in candidates
        ) or any(fnmatch.fnmatch(part, pattern.removeprefix("**/")) for part in parts):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_state_and_secrets_out_but_the_product_in() -> None:
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for secret_or_state in (".env", ".venv/bin/python", ".git/HEAD", ".hfbot/chroma/x"):
        assert _ignored(secret_or_state, patterns), secret_or_state
    needed = ["pyproject.toml", "README.md", "corpus/MANIFEST.yaml", "hfbot/cli.py"]
    needed += ["ingest/store.py", "bot/types.py", "slack-app-manifest.yaml"]
    for path in needed:
        assert not _ignored(path, patterns), path


def _image_env(image: Dockerfile, data_dir: Path, corpus_dir: Path) -> dict[str, str]:
    """The image's environment, with its folders mapped onto a temp dir; no real tokens."""
    from tests.conftest import _REAL_ENV

    env = {k: v for k, v in os.environ.items() if k not in _REAL_ENV}
    for key, value in image.env.items():
        env[key] = value.replace("/data", str(data_dir)).replace("/app/corpus", str(corpus_dir))
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class Built:
    """What the image's build steps left behind, run outside Docker."""

    env: dict[str, str]
    root: Path
    data_dir: Path
    done: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def built(image: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The build step `docker build` runs as the bot user (ingest, then doctor --quick), once
    for this module: the entry-command test then starts from what the build produced."""
    root = tmp_path_factory.mktemp("image")
    corpus = root / "app-corpus"
    shutil.copytree(REPO_ROOT / "corpus", corpus)
    env = _image_env(image, root / "data", corpus)
    step = next(r for r in image.runs if "hfbot ingest" in r)
    done = subprocess.run(
        ["/bin/sh", "-c", step], env=env, cwd=root, capture_output=True, text=True, timeout=600
    )
    return Built(env, root, root / "data", done)


@pytest.mark.slow
def test_build_steps_ingest_the_bundled_corpus_offline(built: Built) -> None:
    done = built.done
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All checks passed." in done.stdout
    assert "store:" in done.stdout and "5 documents" in done.stdout
    assert (built.data_dir / "chroma").is_dir()


@pytest.mark.slow
def test_entry_command_serves_and_passes_the_healthcheck(
    image: Dockerfile, built: Built, fake_slack: FakeHTTP
) -> None:
    """`hfbot serve` as the image starts it (HTTP mode), then the image's HEALTHCHECK command."""
    from tests.conftest import free_port

    assert built.done.returncode == 0, "the build steps failed"
    port = free_port()
    env = built.env | {
        "SLACK_BOT_TOKEN": "xoxb-good",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": fake_slack.url,
        # A free port instead of 3000: the image's command and its health check both follow it.
        "HFBOT_PORT": str(port),
        "HFBOT_HOST": "127.0.0.1",
    }
    command = list(image.command)
    healthcheck = list(image.healthcheck)
    log_path = built.root / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, env=env, cwd=built.root, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 180
        healthy = None
        while time.monotonic() < deadline and proc.poll() is None:
            healthy = subprocess.run(healthcheck, env=env, capture_output=True, timeout=30)
            if healthy.returncode == 0:
                break
            time.sleep(1)
        assert proc.poll() is None, f"serve exited: {log_path.read_text()[-3000:]}"
        assert healthy is not None and healthy.returncode == 0, log_path.read_text()[-3000:]
        assert "auth.test" in fake_slack.requests  # the token was checked at start
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
