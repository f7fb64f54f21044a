"""Read the repository's Dockerfile the way Docker does, so tests can run what the image runs."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Dockerfile:
    """The instructions a test needs: base image, environment, user, commands, health check."""

    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    user: str = ""
    runs: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    healthcheck_options: dict[str, str] = field(default_factory=dict)
    expose: list[str] = field(default_factory=list)
    runs_as: dict[int, str] = field(default_factory=dict)  # RUN index -> USER in force

    @property
    def command(self) -> list[str]:
        """What the container runs: ENTRYPOINT followed by CMD."""
        return [*self.entrypoint, *self.cmd]


def logical_lines(text: str) -> list[str]:
    """Instructions with continuations joined; comment lines dropped (also inside continuations)."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return lines


def _exec_form(rest: str) -> list[str]:
    rest = rest.strip()
    return json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]


def parse(path: Path) -> Dockerfile:
    out = Dockerfile()
    for line in logical_lines(path.read_text(encoding="utf-8")):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            out.base = rest.split()[0]
        elif instruction in ("ENV", "ARG"):
            target = out.env if instruction == "ENV" else out.args
            for token in shlex.split(rest):
                key, sep, value = token.partition("=")
                target[key] = value if sep else ""
        elif instruction == "USER":
            out.user = rest.strip()
        elif instruction == "RUN":
            out.runs_as[len(out.runs)] = out.user
            out.runs.append(rest.strip())
        elif instruction == "ENTRYPOINT":
            out.entrypoint = _exec_form(rest)
        elif instruction == "CMD":
            out.cmd = _exec_form(rest)
        elif instruction == "EXPOSE":
            out.expose.extend(rest.split())
        elif instruction == "HEALTHCHECK":
            options, _, command = rest.partition(" CMD ")
            for token in options.split():
                key, _, value = token.removeprefix("--").partition("=")
                out.healthcheck_options[key] = value
            out.healthcheck = _exec_form(command)
    return out
