"""CSV for spreadsheets (Excel, WPS): the findings, or the per-agent scorecard (`--table metrics`).

What Excel on a Chinese Windows needs to open it as written (docs/outputs.md):
- a UTF-8 byte order mark, else it reads the file as GBK (乱码): the CLI asks for one when it
  writes a file; stdout has none by default, since a BOM in a pipe breaks other tools;
- local times without an offset, in separate date and time columns: Excel reads
  `2026-11-22` and `09:03:00` as a date and a time, but not an ISO string with `+08:00`
  (the JSON report keeps the offset);
- whole numbers without `.0`, so a count is a number and not a decimal;
- no cell that runs as a formula (`guard_formulas`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.schema import HUMAN_ONLY
from cservice_audit.spreadsheet import guard_formulas

BOM = "\ufeff"
TABLES = ("findings", "metrics")


def local_date_time(frame: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Every zone-aware datetime column `c` becomes `c_date` and `c_time`, in the local time
    of `tz` (the ruleset's zone), in its place."""
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            local = pl.col(name).dt.convert_time_zone(tz)
            columns += [local.dt.date().alias(f"{name}_date"), local.dt.strftime("%H:%M:%S").alias(f"{name}_time")]
        else:
            columns.append(pl.col(name))
    return frame.select(columns)


def plain_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """Float cells that hold whole numbers are written as integers (8, not 8.0)."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    return frame.with_columns(
        pl.when(pl.col(c) == pl.col(c).round(0))
        .then(pl.col(c).cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in floats
    )


def table_frame(result: AuditResult, table: str = "findings") -> pl.DataFrame:
    frame = result.metrics if table == "metrics" else result.findings.drop(HUMAN_ONLY, strict=False)
    local = local_date_time(frame, result.ruleset.timezone)
    # The guard runs before numbers become text, so a negative number is never quoted.
    return plain_numbers(guard_formulas(local))


def render(result: AuditResult, *, table: str = "findings", bom: bool = False, **_: Any) -> str:
    text = table_frame(result, table).write_csv()
    return BOM + text if bom else text
