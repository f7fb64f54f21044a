"""The image, built by Docker from the Dockerfile as it stands and run the way a user runs it:
`hfbot ask` answers from the bundled corpus, `hfbot serve` passes its health check and answers a
signed Slack event (against a fake Slack Web API on 127.0.0.1), as a user that cannot change its
code.

Needs a Docker engine (`bash .ci/start-docker` as root); skipped with the reason when none
answers, unless HFBOT_TEST_DOCKER=required (CI sets it once the engine runs): then it fails.
Where the Dockerfile's base image cannot be pulled, `.ci/docker-base` builds a stand-in for it
once per machine. The image build uses Docker's layer cache: a code change rebuilds the last
layers only (the bundled corpus is ingested again), a dependency change reinstalls them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hfbot.settings import REPO_ROOT
from tests.conftest import free_port
from tests.ship.dockerfile import parse
from tests.slack.conftest import BOT_TOKEN, DIRECT, SIGNING_SECRET, Bot
from tests.slack.fake_slack import FakeSlackAPI, block_texts

# The first test's setup builds the image: minutes with an empty layer cache.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

IMAGE = "hfbot:test-image"
TEST_LABEL = "org.hfbot.test-image"  # our builds, so superseded ones can be pruned
STAND_IN_LABEL = "org.hfbot.stand-in-recipe"  # set by .ci/docker-base
QUESTION = "Hvem deltar på partnerskapsmøtet?"
USER_UID = "10001"


def _docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check:
        assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


def _docker_or_skip() -> None:
    reason = ""
    if not shutil.which("docker"):
        reason = "no docker command"
    else:
        done = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no answer"])[-1]
            reason = f"no Docker engine answers ({last})"
    if not reason:
        return
    if os.environ.get("HFBOT_TEST_DOCKER") == "required":
        pytest.fail(f"HFBOT_TEST_DOCKER=required but {reason}")
    pytest.skip(f"image test needs Docker: {reason}; as root, `bash .ci/start-docker` starts it")


def _pip_index_url() -> str:
    """The index pip installs from on this machine: a stand-in base carries the rest of pip's
    configuration (local wheels, certificate), so this index is the one its build can reach."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = done.stdout.strip() if done.returncode == 0 else ""
    return found or "https://pypi.org/simple"  # pip's default


@dataclass
class Image:
    tag: str
    build_log: Path
    build_s: float


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The image from the Dockerfile in the repository, built with --network host."""
    _docker_or_skip()
    base = parse(REPO_ROOT / "Dockerfile").base
    # Builds the stand-in only where the base is missing (or another recipe's stand-in).
    done = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci/docker-base"), base],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, f".ci/docker-base failed:\n{done.stderr[-3000:]}"
    labels = json.loads(_docker("image", "inspect", "--format", "{{json .Config.Labels}}", base))
    args = []
    if STAND_IN_LABEL in (labels or {}):
        # PyTorch's CPU index is out of reach here; the stand-in's pip finds the CPU build of
        # torch where pip on this machine finds it, and the rest on this machine's index.
        args = ["--build-arg", f"TORCH_INDEX_URL={_pip_index_url()}"]
    log = tmp_path_factory.mktemp("image") / "build.log"
    started = time.monotonic()
    with log.open("w") as out:
        built = subprocess.run(
            ["docker", "build", "--network", "host", *args, "--label", f"{TEST_LABEL}=1"]
            + ["--tag", IMAGE, str(REPO_ROOT)],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=2100,
        )
    build_s = time.monotonic() - started
    assert built.returncode == 0, f"docker build failed:\n{log.read_text()[-5000:]}"
    # Earlier test builds this one replaced (untagged now), with the layers only they used.
    _docker("image", "prune", "--force", "--filter", f"label={TEST_LABEL}=1", check=False)
    print(f"image built in {build_s:.0f} s")
    return Image(IMAGE, log, build_s)


def test_the_build_ingests_the_bundled_corpus_as_the_bot_user(image: Image) -> None:
    # Asked of the image itself: the build's log shows the ingest only when that step ran, and
    # a commit that touches only what the image leaves out (tests, docs) rebuilds from cache.
    report = _docker("run", "--rm", "--network", "none", image.tag, "doctor", "--quick")
    assert "All checks passed." in report
    assert "5 documents" in report
    assert _docker("image", "inspect", "--format", "{{ .Config.User }}", image.tag).strip() == (
        f"{USER_UID}:{USER_UID}"
    )


def test_ask_answers_from_the_bundled_corpus_without_a_network(image: Image) -> None:
    # No network at all: the model, the corpus and its index are inside the image.
    out = _docker("run", "--rm", "--network", "none", image.tag, "ask", QUESTION, timeout=180)
    answer, _, sources = out.partition("Kilder:")
    assert "kommune" in answer and "[1]" in answer, out
    assert "Partnerskapsmøte" in sources, out


@dataclass
class Served:
    container: str
    url: str
    api: FakeSlackAPI


@pytest.fixture(scope="module")
def served(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`hfbot serve` (the image's command) in HTTP mode on 127.0.0.1, on the host's network,
    talking to a fake Slack Web API on the host."""
    api = FakeSlackAPI().start()
    port = free_port()
    name = f"hfbot-test-{uuid.uuid4().hex[:8]}"
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.api_url,
        "HFBOT_HOST": "127.0.0.1",
        "HFBOT_PORT": str(port),  # the image's health check follows it
        # A proxy for the outside world, as on machines that reach registries through one:
        # the bot, its Slack client and the health check still reach 127.0.0.1 directly.
        "HTTP_PROXY": f"http://127.0.0.1:{free_port()}",
        "HTTPS_PROXY": f"http://127.0.0.1:{free_port()}",
    }
    run = ["run", "--detach", "--name", name, "--network", "host"]
    # The image's HEALTHCHECK command, checked every second instead of every 30 s.
    run += ["--health-interval", "1s", "--health-start-period", "120s"]
    for key, value in env.items():
        run += ["--env", f"{key}={value}"]
    _docker(*run, image.tag)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            state = json.loads(_docker("inspect", "--format", "{{json .State}}", name))
            assert state["Running"], _docker("logs", name, check=False)[-3000:]
            try:
                with DIRECT.open(url + "/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "hfbot serve did not come up in 180 s"
                time.sleep(0.5)
        yield Served(name, url, api)
    finally:
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=60)
        (tmp_path_factory.mktemp("serve") / "serve.log").write_text(logs.stdout + logs.stderr)
        _docker("rm", "--force", "--volumes", name, check=False)
        api.stop()


def test_serve_passes_its_health_check(served: Served) -> None:
    with DIRECT.open(served.url + "/healthz", timeout=5) as response:
        assert json.loads(response.read()) == {"status": "ok"}
    assert "auth.test" in [c.method for c in served.api.calls]  # the token was checked at start
    deadline = time.monotonic() + 60
    health = ""
    while time.monotonic() < deadline:
        health = _docker("inspect", "--format", "{{ .State.Health.Status }}", served.container)
        if health.strip() == "healthy":
            break
        time.sleep(1)
    checks = json.loads(_docker("inspect", "--format", "{{json .State.Health}}", served.container))
    last = (checks.get("Log") or [{}])[-1]
    assert health.strip() == "healthy", f"{health.strip()}: {last.get('Output', '')[-1500:]}"


def test_serve_answers_a_signed_mention_and_refuses_an_unsigned_one(served: Served) -> None:
    bot = Bot(served.url, served.api, None, None, None)  # type: ignore[arg-type]
    event = bot.mention(QUESTION)
    assert bot.extra["last_reply"].status == 200
    (post,) = served.api.wait_for("chat.postMessage", timeout=60)
    assert post.params["thread_ts"] == event["ts"]
    text = block_texts(post.params["blocks"])
    assert "kommune" in text and "[1]" in text, text
    unsigned = bot.post(b'{"type": "event_callback"}', "application/json", signed=False)
    assert unsigned.status == 401


def test_runs_as_the_bot_user_and_cannot_change_its_code(served: Served) -> None:
    status = _docker("exec", served.container, "cat", "/proc/1/status")
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert set(uids) == {USER_UID}, status  # the server itself, not only `docker exec`
    probe = (
        "import os, sys\n"
        "def writable(path):\n"
        "    try:\n"
        "        with open(path, 'a'):\n"
        "            return True\n"
        "    except OSError:\n"
        "        return False\n"
        "print(os.getuid(), writable('/app/hfbot/cli.py'), writable('/app/new.py'),\n"
        "      writable(sys.modules['os'].__file__), writable('/data/probe'))\n"
    )
    out = _docker("exec", served.container, "python", "-c", probe).split()
    assert out == [USER_UID, "False", "False", "False", "True"], out
