"""Shared fixtures for the end-to-end tests: they run the INSTALLED `cservice-audit` command
as a subprocess, exactly as a user or a cron job would, and never import the package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest


def _command() -> str:
    """The console script installed next to this interpreter (the active venv), else on PATH."""
    found = shutil.which("cservice-audit", path=str(Path(sys.executable).parent)) or shutil.which("cservice-audit")
    if found is None:
        pytest.skip("the cservice-audit command is not installed next to this Python")
    return found


@dataclass
class Run:
    """One finished command: exit code, stdout and stderr as text."""

    code: int
    out: str
    err: str

    def __iter__(self):  # allows `code, out, err = cli(...)`
        return iter((self.code, self.out, self.err))

    def json(self) -> dict:
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as exc:  # pragma: no cover - shown on failure only
            raise AssertionError(f"stdout is not JSON ({exc}); stdout={self.out[:500]!r} stderr={self.err!r}") from None

    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class Cli:
    """`cli(*args, stdin=b"...", cwd=...)` runs the installed command; stdin closed unless given."""

    def __init__(self, command: str, cwd: Path):
        self.command = command
        self.cwd = cwd

    def _env(self, extra: dict[str, str] | None) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("COLUMNS", None)
        # No history unless a test configures one (spec §11: a one-off audit touches nothing);
        # a test about history passes --history or CSERVICE_AUDIT_HOME itself.
        env.pop("CSERVICE_AUDIT_HOME", None)
        env.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", "TZ": "UTC"})
        # The interface language follows the locale (zh_* -> Chinese): tests run in English
        # unless they set LANG/LC_ALL/--lang themselves.
        for name in ("LC_ALL", "LC_MESSAGES"):
            env.pop(name, None)
        env["LANG"] = "C.UTF-8"
        env.update(extra or {})
        return env

    def __call__(self, *args: object, stdin: bytes | None = None, cwd: Path | None = None,
                 env: dict[str, str] | None = None, timeout: float = 300) -> Run:
        proc = subprocess.run(
            [self.command, *map(str, args)],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            cwd=cwd or self.cwd,
            env=self._env(env),
            timeout=timeout,
        )
        return Run(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))

    def many(self, *commands: tuple | dict) -> list[Run]:
        """Run several commands concurrently; results in the same order. Each command is a
        tuple of arguments (stdin closed) or a dict {"args": (...), "stdin": b"...", "env": {...}}."""

        def one(command: tuple | dict) -> Run:
            if isinstance(command, dict):
                return self(*command["args"], stdin=command.get("stdin"), env=command.get("env"))
            return self(*command)

        with ThreadPoolExecutor(max_workers=max(1, min(len(commands), os.cpu_count() or 2))) as pool:
            return list(pool.map(one, commands))


@pytest.fixture(scope="session")
def cli_command() -> str:
    return _command()


@pytest.fixture(scope="session")
def cli_factory(cli_command: str):
    """cli_factory(cwd) -> a Cli running in that directory (for module-scoped fixtures)."""
    return lambda cwd: Cli(cli_command, Path(cwd))


@pytest.fixture
def cli(cli_command: str, tmp_path: Path) -> Cli:
    """Run the installed command with cwd = tmp_path; returns Run(code, out, err)."""
    return Cli(cli_command, tmp_path)


@pytest.fixture
def write(tmp_path: Path):
    """write("name.csv", text_or_bytes, encoding="utf-8") -> Path inside tmp_path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode(encoding))
        return path

    return _write


@pytest.fixture(autouse=True)
def isolated_history(tmp_path_factory, monkeypatch):
    """Every test gets its own empty history folder: audits remember across runs
    ($CSERVICE_AUDIT_HOME), and no test may read another's days or the user's own."""
    folder = tmp_path_factory.mktemp("history")
    monkeypatch.setenv("CSERVICE_AUDIT_HOME", str(folder))
    # In-process runs of the CLI (fuzz, killed writes) speak English whatever the host's locale.
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    return folder
