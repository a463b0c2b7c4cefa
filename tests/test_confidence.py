"""Confidence labels say where a rule's number comes from (issue 10).

`stated` only where a source we hold states it: the rule cites (`sources`) one of the seed
articles in ../shared/sources/ (ids `seed-NNN`). Every platform rule cites at least one
source. Phrase rules are labelled by their own work (the phrase engine) and left out here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cservice_audit.ruleset import load_platform, shipped_platforms

BIN = Path(sys.executable).parent / "cservice-audit"
LEFT_OUT = {"phrases"}  # labelled by the phrase-rule work
OWN_CHECKS = {"data_quality"}  # ours, not a platform's: no source, `assumed`

RULES = [
    pytest.param(platform, rule, id=rule.code)
    for platform in shipped_platforms()
    for rule in load_platform(platform).rules
    if rule.check not in LEFT_OUT
]


@pytest.mark.parametrize(("platform", "rule"), RULES)
def test_confidence_names_its_source(platform: str, rule) -> None:
    ruleset = load_platform(platform)
    if rule.check in OWN_CHECKS:
        assert rule.confidence == "assumed" and not rule.sources, f"{rule.code}: our own check is `assumed`"
        return
    assert rule.sources, f"{rule.code}: cites no source (rules[].sources)"
    for source_id in rule.sources:
        assert ruleset.source(source_id) is not None, f"{rule.code}: cites unknown source {source_id}"
    if rule.confidence == "stated":
        seeds = [i for i in rule.sources if i.startswith("seed-")]
        assert seeds, f"{rule.code}: `stated` but cites none of the seed articles we hold"
        for seed in seeds:
            note = ruleset.source(seed).get("note", "")
            assert f"../shared/sources/{seed.removeprefix('seed-')}" in note, f"{seed}: its note must name the file"
    assert rule.confidence_note, f"{rule.code}: says nothing about where its numbers come from"


def _validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "my.yaml"
    path.write_text(text, "utf-8")
    return subprocess.run([str(BIN), "validate-ruleset", str(path)], capture_output=True, text=True)


def test_unknown_source_id_is_a_ruleset_error(tmp_path: Path) -> None:
    done = _validate(tmp_path, "extends: pinduoduo\nrules:\n  - code: PDD-R3\n    sources: [seed-999]\n")
    assert done.returncode == 2
    assert "rules[PDD-R3].sources: 'seed-999' is not the id" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def test_own_sources_add_to_the_base(tmp_path: Path) -> None:
    """A user's `sources` adds to the shipped ones, which the shipped rules keep citing."""
    done = _validate(
        tmp_path,
        "extends: pinduoduo\nsources:\n  - {id: ours, title: our contract}\nrules:\n  - code: PDD-R3\n    sources: [ours]\n",
    )
    assert done.returncode == 0, done.stderr


def test_yield_to_must_name_a_long_no_reply_rule(tmp_path: Path) -> None:
    done = _validate(tmp_path, "extends: pinduoduo\nrules:\n  - code: PDD-N1\n    params: {yield_to: [PDD-R3]}\n")
    assert done.returncode == 2
    assert "rules[PDD-N1].params: yield_to: 'PDD-R3' is not another long_no_reply rule" in done.stderr


def test_disabling_the_rule_yielded_to_is_allowed(tmp_path: Path) -> None:
    done = _validate(tmp_path, "extends: pinduoduo\nrules:\n  - code: PDD-Q3\n    enabled: false\n")
    assert done.returncode == 0, done.stderr
