"""The installed command on every bundled sample gives its reviewed golden report.

A difference is either a bug or an intended change; for an intended one, run `make golden`
and review the diff of tests/golden/ and samples/README.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from golden import GOLDEN, ROOT, SAMPLES_LIST, stable


def installed_command() -> str:
    return str(Path(sys.executable).parent / "cservice-audit")


@pytest.mark.parametrize("sample", SAMPLES_LIST, ids=lambda s: s.file)
def test_sample_matches_golden(sample) -> None:
    done = subprocess.run(
        [installed_command(), "audit", f"samples/{sample.file}", "--platform", sample.platform, "--format", "json", "--no-history"],
        cwd=ROOT, capture_output=True, text=True,
    )
    report = json.loads(done.stdout)
    golden = json.loads((GOLDEN / f"{sample.file}.json").read_text("utf-8"))
    assert stable(report) == golden
    # Every sample has error findings, so the exit status is 1 (spec §10).
    assert done.returncode == 1, done.stderr
    assert report["input"]["rows_rejected"] == len(sample.damaged_lines)
    assert report["input"]["rows_read"] > 1000


def test_samples_readme_lists_every_sample() -> None:
    readme = (ROOT / "samples" / "README.md").read_text("utf-8")
    for sample in SAMPLES_LIST:
        assert f"`{sample.file}`" in readme
