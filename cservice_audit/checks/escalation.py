"""Escalation: platforms punish repeated failures harder. Tiers are ruleset data.

A rule's `escalation` lists tiers (`at`, `label`, `severity`, `penalty`):
- rules judged per period (reply rates, average waits, review rates): `at` counts this
  failure and the earlier complete failures of the same scope, shop and agent whose period
  ended within `lookback_days` (Kuaishou: first failure 情节轻微, repeated 情节严重);
- occurrence rules (phrases, long no-reply, repeated scripts): `at` counts occurrences in
  the rule's period (PDD: three bad-attitude findings in 30 days bring a platform warning).
The highest tier reached sets the finding's severity, `tier` and `penalty`; a tier's
`points` (Kuaishou's good-review rate: −2 from 情节严重 on) are added to a failed period's
finding and metric row.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from cservice_audit.ruleset import Rule

KEYS = ["scope", "shop", "agent"]


def _tier(count: pl.Expr, rule: Rule) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(label, penalty, severity, points) of the highest tier `count` reaches, else nulls."""
    label = penalty = severity = pl.lit(None, dtype=pl.String)
    points = pl.lit(None, dtype=pl.Float64)
    for tier in sorted(rule.escalation.tiers, key=lambda t: t.at):
        reached = count >= tier.at
        label = pl.when(reached).then(pl.lit(tier.label)).otherwise(label)
        penalty = pl.when(reached).then(pl.lit(tier.penalty)).otherwise(penalty)
        severity = pl.when(reached).then(pl.lit(tier.severity)).otherwise(severity)
        points = pl.when(reached).then(pl.lit(float(tier.points))).otherwise(points)
    return label, penalty, severity, points


def _none(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_columns(
        pl.lit(None, dtype=pl.String).alias("tier"),
        pl.lit(None, dtype=pl.String).alias("penalty"),
        pl.lit(None, dtype=pl.String).alias("tier_severity"),
        pl.lit(None, dtype=pl.Float64).alias("tier_points"),
    )


def escalate_failed_periods(failing: pl.LazyFrame, rule: Rule) -> pl.LazyFrame:
    """Add tier, penalty, tier_severity to failing (and at-risk) period rows."""
    if rule.escalation is None:
        return _none(failing)
    lookback = timedelta(days=rule.escalation.lookback_days)
    earlier = failing.filter(pl.col("status") == "fail").select(*KEYS, pl.col("period_end").alias("_earlier_end"))
    counts = (
        failing.select(*KEYS, "period_start", "period_end")
        .join(earlier, on=KEYS, how="inner", nulls_equal=True)
        .filter((pl.col("_earlier_end") < pl.col("period_start")) & (pl.col("_earlier_end") > pl.col("period_end") - lookback))
        .group_by(*KEYS, "period_start")
        .agg(pl.len().alias("_earlier"))
    )
    with_counts = failing.join(counts, on=[*KEYS, "period_start"], how="left", nulls_equal=True)
    label, penalty, severity, points = _tier(pl.col("_earlier").fill_null(0) + 1, rule)
    return with_counts.with_columns(
        label.alias("tier"), penalty.alias("penalty"), severity.alias("tier_severity"), points.alias("tier_points")
    ).drop("_earlier")


def escalate_occurrences(metrics: pl.LazyFrame, rule: Rule) -> pl.LazyFrame:
    """Add tier, penalty, tier_severity to period rows by their number of occurrences."""
    if rule.escalation is None:
        return _none(metrics)
    label, penalty, severity, points = _tier(pl.col("numerator"), rule)
    return metrics.with_columns(
        label.alias("tier"), penalty.alias("penalty"), severity.alias("tier_severity"), points.alias("tier_points")
    )
