"""Findings as CSV: one row per finding, the columns of FINDING_SCHEMA, for spreadsheets."""

from __future__ import annotations

from typing import Any

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.spreadsheet import guard_formulas


def render(result: AuditResult, **_: Any) -> str:
    local = result.findings.with_columns(pl.col("ts").dt.convert_time_zone(result.ruleset.timezone))
    return guard_formulas(local).write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%:z")
