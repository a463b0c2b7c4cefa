"""Day rows and their roll-up into periods: how stored history and new input combine.

Every rule first sums its items per (scope, shop, agent, day) into additive components:
`numerator`, `denominator`, `answered`, `wait_sum`. A period's figures are sums of its days,
so days stored by earlier runs (the history) and days of the current input combine exactly,
and a day audited again simply replaces its stored rows.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from cservice_audit.metrics import periods

DAY_SCHEMA = {
    "rule": pl.String,
    "scope": pl.String,
    "shop": pl.String,
    "agent": pl.String,  # null at shop scope
    "day": pl.Date,
    "numerator": pl.Float64,
    "denominator": pl.Int64,
    "answered": pl.Int64,
    "wait_sum": pl.Float64,
}
COMPONENTS = ("numerator", "denominator", "answered", "wait_sum")


def day_rows(items: pl.LazyFrame, rule: str, scope: str, numerator: pl.Expr, counted: pl.Expr) -> pl.LazyFrame:
    """Per (shop, agent, day): the sum of `numerator` over counted items, how many items
    count, how many have a wait (`answered`) and their total wait."""
    keys = ["shop", "day"] + (["agent"] if scope == "agent" else [])
    wait = pl.col("wait") if "wait" in items.collect_schema().names() else pl.lit(None, dtype=pl.Float64)
    grouped = items.with_columns(wait.alias("_wait"), counted.alias("_counted")).group_by(keys).agg(
        numerator.filter(pl.col("_counted")).sum().cast(pl.Float64).alias("numerator"),
        pl.col("_counted").sum().cast(pl.Int64).alias("denominator"),
        pl.col("_wait").count().cast(pl.Int64).alias("answered"),
        pl.col("_wait").sum().cast(pl.Float64).alias("wait_sum"),
    )
    return grouped.select(
        pl.lit(rule).alias("rule"),
        pl.lit(scope).alias("scope"),
        "shop",
        pl.col("agent") if scope == "agent" else pl.lit(None, dtype=pl.String).alias("agent"),
        "day",
        *COMPONENTS,
    )


def period_rows(days: pl.LazyFrame, period: str, as_of: date) -> pl.LazyFrame:
    """Sum day rows into periods; `coverage` counts the days with data in each period."""
    return (
        periods.assign(days, period, as_of)
        .group_by("rule", "scope", "shop", "agent", "period_start", "period_end")
        .agg(*[pl.col(c).sum() for c in COMPONENTS], pl.col("day").n_unique().cast(pl.Int64).alias("coverage"))
    )
