"""Data quality: every input row that could not be normalized, with its file and line.

What it checks
    Rows with no or an unparseable timestamp, an unknown role, no buyer, an agent message
    without an agent, a review without a known rating, ... (spec/metrics.md §1). Such rows
    are never silently dropped: each is one finding naming the file, the line and the
    reason, and `--rejects FILE` writes them out whole.

Why it matters
    A row the tool cannot read is a message whose wait nobody measured: the rates printed
    are only as complete as the rows that made it in.

Parameters
    none (severity and code come from the ruleset).

Example finding
    PDD-D1 warning exports/day.csv:42: unparseable timestamp '2026-13-01 25:00'
"""

from __future__ import annotations

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.formatting import format_text
from cservice_audit.checks.example import ROW as EXAMPLE_ROW
from cservice_audit.i18n import t, text_expr
from cservice_audit.normalize import CANONICAL
from cservice_audit.params import Param
from cservice_audit.ruleset import Rule
from cservice_audit.schema import IDENTITY, empty_metrics

PARAMS: dict[str, Param] = {}


def validate(params: dict) -> None:
    """No parameters."""


def example(rule: Rule, lang: str) -> list[str]:
    """A row whose time cannot be read (explain)."""
    problem = t("finding.rejected", lang, problem=t("reject.bad_ts", lang, value="2026-13-01 25:00"))
    file, line = EXAMPLE_ROW
    return [t("explain.example_row", lang, code=rule.code, severity=t(f"severity.{rule.severity}", lang), file=file, line=line, message=problem)]


def run(rule: Rule, context: Context) -> CheckOutput:
    findings = context.rejects.lazy().select(
        pl.lit(rule.code).alias("code"),
        pl.lit(rule.severity).alias("severity"),
        pl.lit(rule.name).alias("name"),
        pl.lit("shop").alias("scope"),
        pl.col("shop").fill_null("-").alias("shop"),
        pl.col("buyer").alias("buyer"),
        text_expr("finding.rejected", "en", problem=pl.col("problem")).alias("message"),
        text_expr("finding.rejected", "zh", problem=pl.col("problem_zh").fill_null(pl.col("problem"))).alias("message_zh"),
        format_text("{}:{}", pl.col("_source"), pl.col("line")).alias("evidence"),
        pl.lit(float(rule.points)).alias("points"),
        # The row's own content identifies it across runs, where a line number would not.
        pl.concat_str([pl.col(c).fill_null("") for c in CANONICAL], separator="\x1f").alias(IDENTITY),
    )
    return CheckOutput(empty_metrics(), findings)
