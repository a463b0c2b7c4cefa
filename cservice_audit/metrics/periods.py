"""Assessment periods and verdicts (spec/metrics.md §8)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

ROLLING_DAYS = 30


def assign(items: pl.LazyFrame, period: str, as_of: date) -> pl.LazyFrame:
    """Add period_start / period_end (dates) from each item's `day`.

    `rolling_30d` is the one window of 30 days ending on the as-of day; items outside it
    are not part of any period and leave the frame.
    """
    day = pl.col("day")
    if period == "day":
        return items.with_columns(day.alias("period_start"), day.alias("period_end"))
    if period == "natural_week":
        start = day.dt.truncate("1w")  # polars weeks start on Monday
        return items.with_columns(start.alias("period_start"), start.dt.offset_by("6d").alias("period_end"))
    if period == "natural_month":
        return items.with_columns(day.dt.month_start().alias("period_start"), day.dt.month_end().alias("period_end"))
    if period == "rolling_30d":
        first = as_of - timedelta(days=ROLLING_DAYS - 1)
        return items.filter(day.is_between(first, as_of)).with_columns(
            pl.lit(first).alias("period_start"), pl.lit(as_of).alias("period_end")
        )
    raise ValueError(f"unknown period {period!r}")


def earlier_failures(metrics: pl.DataFrame, findings: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The metric rows of periods that ended before the as-of day and failed, with a finding
    this run reports as new: finished days, weeks or months (a rolling window always ends on
    the as-of day) that only a run judging several days reports (spec §11), and of those the
    ones not already in the baseline. A nightly two-day export (the day before judged again
    for its late replies) re-reports yesterday's failures, which last night's report held:
    known, they are not tonight's news. An agent's row needs a new finding of its own; the
    shop's row one of any of its agents (an off-platform finding is the agent's alone)."""
    earlier = metrics.filter((pl.col("period_end") < as_of) & (pl.col("status") == "fail"))
    if earlier.is_empty():
        return earlier
    fresh = findings.filter(pl.col("state") != "known") if "state" in findings.columns else findings
    fresh = fresh.select("shop", "agent", pl.col("code").alias("rule"), "period_start")
    agents = earlier.filter(pl.col("agent").is_not_null()).join(fresh.unique(), on=["shop", "agent", "rule", "period_start"], how="semi", nulls_equal=True)
    shops = earlier.filter(pl.col("agent").is_null()).join(fresh.drop("agent").unique(), on=["shop", "rule", "period_start"], how="semi")
    return pl.concat([agents, shops])


def status(failing: pl.Expr, denominator: pl.Expr, min_count: int, as_of: date) -> pl.Expr:
    """pass / fail / at_risk / insufficient, from a failing flag and the period's end.

    An incomplete period past the threshold so far is at risk even below `min_count`: the
    supervisor needs the warning mid-week, and the period may still reach the count (spec §8).
    A period below `min_count` that is complete, or not failing so far, is insufficient.
    """
    complete = pl.col("period_end") <= as_of
    return (
        pl.when(failing & ~complete).then(pl.lit("at_risk"))
        .when(denominator < min_count).then(pl.lit("insufficient"))
        .when(failing).then(pl.lit("fail"))
        .otherwise(pl.lit("pass"))
    )  # fmt: skip
