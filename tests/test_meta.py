"""Meta-tests over the case files: every shipped rule is shown both failing and passing.

For each rule code of every shipped ruleset, some `tests/cases/*.yaml` case must

- show it FAILING: an expected finding with that code (not an `info` one: a pending
  long no-reply is not a violation), or an expected metric row with status `fail` or
  `at_risk`; and
- show it PASSING: the case selects the rule (its ruleset has it after `extends:` and
  `select`, exactly or by prefix) and expects a metric row with status `pass` for it, or
  lists `findings` containing none of that code.

The case's ruleset is loaded exactly as `test_cases.py` loads it, so a case that extends
`pinduoduo` never counts for a Kuaishou code, and a rule a case disables or does not
select is not credited. Every case file is read, including ones other helpers add later
(the phrase cases live in `phrases_*.yaml`).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from cservice_audit.ruleset import load_file, load_platform, shipped_platforms

CASES_DIR = Path(__file__).parent / "cases"
FAILING = ("fail", "at_risk")


def shipped_codes() -> list[str]:
    return [rule.code for platform in shipped_platforms() for rule in load_platform(platform).rules]


@functools.cache
def all_cases() -> tuple[tuple[str, dict], ...]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text("utf-8")) or []:
            cases.append((f"{path.stem}:{case['name']}", case))
    return tuple(cases)


@functools.cache
def selected_codes(case_id: str) -> frozenset[str]:
    """The codes of the rules the case runs: its ruleset loaded and selected as test_cases does."""
    case = dict(all_cases())[case_id]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ruleset.yaml"
        path.write_text(yaml.safe_dump(case["ruleset"], allow_unicode=True), "utf-8")
        ruleset = load_file(path).selected(case.get("select"), None)
    return frozenset(rule.code for rule in ruleset.rules)


def _expect(case: dict) -> dict[str, Any]:
    return case.get("expect") or {}


def _metric_rows(case: dict, code: str) -> list[dict]:
    return (_expect(case).get("metrics") or {}).get(code) or []


def shows_failing(case_id: str, case: dict, code: str) -> bool:
    if code not in selected_codes(case_id):
        return False
    findings = _expect(case).get("findings") or []
    if any(f.get("code") == code and f.get("severity") != "info" for f in findings):
        return True
    return any(row.get("status") in FAILING for row in _metric_rows(case, code))


def shows_passing(case_id: str, case: dict, code: str) -> bool:
    if code not in selected_codes(case_id):
        return False
    if any(row.get("status") == "pass" for row in _metric_rows(case, code)):
        return True
    expect = _expect(case)
    return "findings" in expect and not any(f.get("code") == code for f in expect["findings"] or [])


CODES = shipped_codes()


def test_shipped_rulesets_have_rules() -> None:
    assert shipped_platforms(), "no shipped rulesets found"
    assert len(CODES) == len(set(CODES)), "a rule code is used by two shipped rules"


@pytest.mark.parametrize("code", CODES)
def test_rule_has_a_failing_case(code: str) -> None:
    cases = [cid for cid, case in all_cases() if shows_failing(cid, case, code)]
    assert cases, f"{code}: no case in tests/cases/*.yaml expects it to fail (a finding or a fail/at_risk metric)"


@pytest.mark.parametrize("code", CODES)
def test_rule_has_a_passing_case(code: str) -> None:
    cases = [cid for cid, case in all_cases() if shows_passing(cid, case, code)]
    assert cases, f"{code}: no case in tests/cases/*.yaml selects it and expects it to pass"


@pytest.mark.parametrize("case_id", [cid for cid, _ in all_cases()])
def test_case_expects_only_rules_it_runs(case_id: str) -> None:
    """A code under `metrics` or in `findings` that the case does not run is a typo: such an
    expectation would be vacuous (metrics) or could never match (findings)."""
    case = dict(all_cases())[case_id]
    codes = selected_codes(case_id)
    named = set((_expect(case).get("metrics") or {})) | {f.get("code") for f in _expect(case).get("findings") or []}
    assert named <= codes, f"{case_id}: expects {sorted(named - codes)}, which the case does not run"
