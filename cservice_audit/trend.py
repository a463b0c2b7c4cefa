"""Trends: rates week by week from the history store (cservice-audit trend)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from cservice_audit.ruleset import Ruleset

BARS = "▁▂▃▄▅▆▇█"
RATE_CHECKS = ("reply_rate", "review_rate", "average_wait")


def weekly(stored: pl.LazyFrame, ruleset: Ruleset, *, weeks: int, rule: str | None = None, agent: str | None = None) -> pl.DataFrame:
    """Per rule, shop and agent (null: the shop) and natural week: numerator, denominator,
    value (rate or mean for rate rules; occurrences for occurrence rules), coverage (days)."""
    checks = {r.code: r.check for r in ruleset.rules}
    rows = stored.filter(pl.col("rule").is_in(list(checks)))
    if rule:
        rows = rows.filter(pl.col("rule") == rule)
    if agent:
        rows = rows.filter(pl.col("agent").is_null() | (pl.col("agent") == agent))
    rows = rows.with_columns(pl.col("day").dt.truncate("1w").alias("week_start"))
    last = rows.select(pl.col("week_start").max()).collect().item()
    if last is None:
        return pl.DataFrame(schema={"rule": pl.String, "scope": pl.String, "shop": pl.String, "agent": pl.String, "week_start": pl.Date, "numerator": pl.Float64, "denominator": pl.Int64, "value": pl.Float64, "coverage": pl.Int64})
    first = last - timedelta(weeks=weeks - 1)
    is_rate = pl.col("rule").replace_strict({c: k in RATE_CHECKS for c, k in checks.items()}, return_dtype=pl.Boolean)
    order = {r.code: i for i, r in enumerate(ruleset.rules)}
    return (
        rows.filter(pl.col("week_start") >= first)
        .group_by("rule", "scope", "shop", "agent", "week_start")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum(), pl.col("day").n_unique().cast(pl.Int64).alias("coverage"))
        .with_columns(
            pl.when(is_rate & (pl.col("denominator") > 0)).then(pl.col("numerator") / pl.col("denominator"))
            .when(~is_rate).then(pl.col("numerator"))
            .alias("value"),
            pl.col("rule").replace_strict(order, return_dtype=pl.Int64).alias("_order"),
        )  # fmt: skip
        .sort("_order", "shop", pl.col("scope") == "shop", "agent", "week_start", nulls_last=True)
        .drop("_order")
        .collect()
    )


def sparkline(values: list[float | None]) -> str:
    """One bar per value, scaled between the smallest and largest; blank where missing."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low or 1.0
    return "".join(" " if v is None else BARS[min(len(BARS) - 1, int((v - low) / span * (len(BARS) - 1) + 0.5))] for v in values)
