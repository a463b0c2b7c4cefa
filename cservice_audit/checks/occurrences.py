"""Tallies of occurrence rules: each occurrence is a finding; per scope and period the metric
counts occurrences (numerator) among the items looked at (denominator) and sums points.

Long no-reply, phrase and repeated-script rules are all of this kind.
"""

from __future__ import annotations

import polars as pl

from cservice_audit.checks.context import Context
from cservice_audit.metrics import periods
from cservice_audit.ruleset import Rule
from cservice_audit.schema import METRIC_SCHEMA, conform


def tally(context: Context, rule: Rule, items: pl.LazyFrame) -> pl.LazyFrame:
    """Metric rows from `items` (shop, agent, day, hit: bool), in METRIC_SCHEMA."""
    params = rule.params
    frames = []
    for scope in params["scopes"]:
        keys = ["shop", "period_start", "period_end"] + (["agent"] if scope == "agent" else [])
        per_period = periods.assign(items, params["period"], context.as_of).group_by(keys).agg(
            pl.col("hit").sum().cast(pl.Float64).alias("numerator"),
            pl.len().cast(pl.Int64).alias("denominator"),
        )
        frames.append(per_period.with_columns(pl.lit(scope).alias("scope")))
    counts = pl.concat(frames, how="diagonal_relaxed")
    failing = pl.col("numerator") > params["max_count"]
    return conform(
        counts.with_columns(
            pl.lit(rule.code).alias("rule"),
            pl.lit(rule.name).alias("name"),
            pl.lit(params["period"]).alias("period"),
            (pl.col("period_end") <= context.as_of).alias("complete"),
            pl.col("numerator").alias("value"),
            pl.lit(float(params["max_count"])).alias("threshold"),
            periods.status(failing, pl.col("denominator"), params.get("min_count", 1), context.as_of).alias("status"),
            # Spelled out so that "no occurrence" is 0 points, not the -0.0 of 0 × −10.
            pl.when(pl.col("numerator") > 0).then(pl.col("numerator") * float(rule.points)).otherwise(0.0).alias("points"),
        ),
        METRIC_SCHEMA,
    )
