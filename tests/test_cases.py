"""Per-check cases as data: every `tests/cases/*.yaml` case is a tiny transcript, a ruleset
(a shipped one, optionally overridden) and the exact metrics and findings expected.

For each rule a case names under `metrics`, the rows the audit produced for that rule,
reduced to the fields the case lists, must equal the listed rows (as a multiset): no row
missing, none extra. `findings` lists every finding of the selected rules the same way.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from cservice_audit import limits
from cservice_audit.audit import AuditOptions, run_audit
from cservice_audit.ruleset import load_file

CASES_DIR = Path(__file__).parent / "cases"
# The run time of every case: after all case data, so no case row counts as "in the future".
FIXED_NOW = datetime(2026, 12, 31, 2, 0, tzinfo=timezone.utc)


def load_cases() -> list[Any]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text("utf-8")):
            cases.append(pytest.param(case, id=f"{path.stem}:{case['name']}"))
    return cases


def run_case(case: dict, tmp_path: Path):
    ruleset_path = tmp_path / "ruleset.yaml"
    ruleset_path.write_text(yaml.safe_dump(case["ruleset"], allow_unicode=True), "utf-8")
    ruleset = load_file(ruleset_path).selected(case.get("select"), None)
    options = AuditOptions(
        date=_date(case.get("date")),
        since=_date(case.get("since")),
        until=_date(case.get("until")),
        agent=case.get("agent"),
    )
    events = tmp_path / "events.csv"
    events.write_text(case["events"], "utf-8")
    # `now`: when the run happens, for cases about a day still running (a spot-check at 15:00).
    now = datetime.fromisoformat(str(case["now"])) if "now" in case else FIXED_NOW
    # `limits`: caps of this case (docs/limits.md), e.g. a case of mostly rejected rows.
    saved = limits._active  # restored exactly: None means "from the environment"
    limits.activate(limits.current().with_settings(case.get("limits", {}), origin="case"))
    try:
        return run_audit([str(events)], ruleset, options, generated_at=now, stdin=io.BytesIO())
    finally:
        limits._active = saved


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value is not None else None


def _rows(frame: pl.DataFrame, tz: str) -> list[dict]:
    if "ts" in frame.columns:
        frame = frame.with_columns(pl.col("ts").dt.convert_time_zone(tz))
    return [{k: _plain(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 4)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def assert_rows(actual: list[dict], expected: list[dict], what: str, events_file: str) -> None:
    """Each expected row matches one actual row on the fields it lists; none left over.

    `{file}` in an expected string stands for the path of the case's events file.
    """
    unmatched = list(actual)
    for row in expected:
        want = {k: _plain(v.replace("{file}", events_file) if isinstance(v, str) else v) for k, v in row.items()}
        match = next((a for a in unmatched if all(a.get(k) == v for k, v in want.items())), None)
        assert match is not None, f"{what}: no row matches {want}; rows left: {unmatched}"
        unmatched.remove(match)
    assert not unmatched, f"{what}: unexpected rows {unmatched}"


@pytest.mark.parametrize("case", load_cases())
def test_case(case: dict, tmp_path: Path) -> None:
    result = run_case(case, tmp_path)
    events = str(tmp_path / "events.csv")
    tz = result.ruleset.timezone
    expect = case["expect"]
    for code, rows in (expect.get("metrics") or {}).items():
        assert_rows(_rows(result.metrics.filter(pl.col("rule") == code), tz), rows, f"metrics of {code}", events)
    if "findings" in expect:
        assert_rows(_rows(result.findings, tz), expect["findings"] or [], "findings", events)
    for key in ("rows_read", "rows_used", "rows_rejected", "rows_duplicate"):
        if key in expect:
            assert getattr(result.input, key) == expect[key], key
    if "as_of" in expect:
        assert str(result.as_of) == str(expect["as_of"])
