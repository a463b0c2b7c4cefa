"""A run stopped half-way (cron's `timeout` sends SIGTERM, a person presses Ctrl-C) says so
in one line, exits 2 (the run could not be done, spec §10) and leaves nothing behind: no
spooled copy of its input and no spill folder in $TMPDIR, no report and no temporary file
beside it. Before, SIGTERM ended the process on the spot outside a spill, so every night
stopped by `timeout` left the decompressed input in /tmp.

Each case runs the installed command as a real subprocess, in its own $TMPDIR, waits until
the temporary file the case is about exists, then sends the signal."""

from __future__ import annotations

import gzip
import signal
import subprocess
import time
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "pinduoduo-2026-11-22.csv"
WAIT = 120  # seconds for the temporary file to appear (a busy machine)


def _wait_for(folder: Path, proc: subprocess.Popen, kind: str) -> Path:
    """The first entry of `folder` that is a file (`kind` "file") or a folder ("dir")."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for entry in folder.iterdir():
            if entry.is_dir() if kind == "dir" else entry.is_file():
                return entry
        assert proc.poll() is None, f"finished (exit {proc.returncode}) before its {kind} appeared: {proc.stderr.read()!r}"
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"no {kind} appeared in {folder} within {WAIT} s")


def _stopped(proc: subprocess.Popen, how: signal.Signals) -> tuple[int, list[str]]:
    proc.send_signal(how)
    _, err = proc.communicate(timeout=WAIT)
    return proc.returncode, [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]


@pytest.mark.parametrize(("how", "said"), [(signal.SIGTERM, "terminated (SIGTERM) before the run finished"), (signal.SIGINT, "interrupted")])
def test_a_run_stopped_while_reading_a_stream_removes_its_spool(cli, tmp_path, how, said):
    """stdin is copied to a spool in $TMPDIR while it is read; the writer holds the pipe open,
    so the run is stopped while the spool exists."""
    spools = tmp_path / "tmp"
    spools.mkdir()
    reports = tmp_path / "reports"
    reports.mkdir()
    command = [cli.command, "audit", "-", "-p", "pinduoduo", "--no-history", "-f", "json", "-o", str(reports / "night.json")]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path, env=cli._env({"TMPDIR": str(spools)}))  # fmt: skip
    # More than the loader's first read (1 MiB, which blocks until it is full): the spool is
    # written once the start is sniffed, and the pipe stays open.
    proc.stdin.write(SAMPLE.read_bytes() * 8)
    proc.stdin.flush()
    _wait_for(spools, proc, "file")
    code, lines = _stopped(proc, how)
    proc.stdin.close()
    assert code == 2, lines
    assert len(lines) == 1 and lines[0] == f"cservice-audit: error: {said}", lines
    assert list(spools.iterdir()) == [], "the spool was left behind"
    assert list(reports.iterdir()) == [], "a report (or its temporary file) was written"


def test_a_spilled_run_stopped_by_sigterm_removes_its_spill_folder(cli, tmp_path):
    """A big input is normalized into a spill folder in $TMPDIR (forced here with a threshold
    of 0 bytes); SIGTERM while the folder exists removes it."""
    chats = tmp_path / "chats.csv"
    made = cli("generate", "-o", chats, "--rows", "100000", "--seed", "3", "--days", "3", "--platform", "pinduoduo")
    assert made.code == 0, made.err
    spills = tmp_path / "tmp"
    spills.mkdir()
    command = [cli.command, "audit", str(chats), "-p", "pinduoduo", "--no-history", "-f", "json", "-o", str(tmp_path / "night.json")]
    env = cli._env({"TMPDIR": str(spills), "CSERVICE_AUDIT_SPILL_BYTES": "0"})
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    folder = _wait_for(spills, proc, "dir")
    assert folder.name.startswith("cservice-audit-"), folder
    code, lines = _stopped(proc, signal.SIGTERM)
    assert code == 2, lines
    assert lines == ["cservice-audit: error: terminated (SIGTERM) before the run finished"], lines
    assert list(spills.iterdir()) == [], "the spill folder was left behind"
    assert not (tmp_path / "night.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chats.csv", "tmp"], "a temporary report file was left behind"


def test_a_run_removes_its_spools_when_it_ends_not_when_the_process_does(tmp_path, monkeypatch):
    """In one process, two audits of a stream one after the other (as the fuzz tests run, or
    any caller of the entry point): the first run's spool is gone as soon as it returns.
    Before, spools waited for the process to exit, and a long test run kept hundreds."""
    import io
    import sys
    import tempfile

    from cservice_audit import cli as entry

    spools = tmp_path / "tmp"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    monkeypatch.setattr(sys, "argv", ["cservice-audit", "audit", "-", "-p", "pinduoduo", "--no-history", "-f", "json", "-q"])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(SAMPLE.read_bytes())), encoding="utf-8"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(SystemExit) as ended:
        entry.main()
    assert ended.value.code == 1, out.getvalue()[-500:]
    assert '"rows_used"' in out.getvalue()
    assert list(spools.iterdir()) == [], "the spool outlived its run"
