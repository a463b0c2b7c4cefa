"""Findings as CSV: one row per finding, the columns of FINDING_SCHEMA, for spreadsheets."""

from __future__ import annotations

from typing import Any

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.schema import FINDING_SCHEMA

# A cell starting like this is a formula to Excel; a leading quote keeps it text. A lone
# "-" (the default shop) is not a formula and stays as it is.
_FORMULA_START = r"^([=@\t\r]|[+\-].)"


def render(result: AuditResult, **_: Any) -> str:
    text_columns = [c for c, t in FINDING_SCHEMA.items() if t == pl.String]
    safe = result.findings.with_columns(
        pl.col("ts").dt.convert_time_zone(result.ruleset.timezone),
        *[
            pl.when(pl.col(c).str.contains(_FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
            for c in text_columns
        ],
    )
    return safe.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%:z")
