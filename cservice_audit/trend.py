"""Trends: week by week from the history store (cservice-audit trend).

Each rule's weekly value is what the rule measures: a rate (reply and review rules, shown
as %), a mean wait in seconds (average-wait rules), or a count of occurrences (phrases,
long no-reply, repeated scripts: shown as counts, never as a percentage). Sparklines use
a fixed scale that starts at zero (rates 0–100 %), so 98 % → 97 % is a small step, not a
collapse; each value is judged against the rule's threshold. The week holding the last
stored day is flagged `partial` until its Sunday is stored.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from cservice_audit.ruleset import Rule, Ruleset

BARS = "▁▂▃▄▅▆▇█"
KIND = {"reply_rate": "rate", "review_rate": "rate", "average_wait": "seconds"}  # else: count
SCHEMA = {
    "rule": pl.String, "scope": pl.String, "shop": pl.String, "agent": pl.String, "week_start": pl.Date,
    "numerator": pl.Float64, "denominator": pl.Int64, "value": pl.Float64, "coverage": pl.Int64,
    "kind": pl.String, "threshold": pl.Float64, "direction": pl.String, "miss": pl.Boolean, "partial": pl.Boolean,
}  # fmt: skip


def kind(rule: Rule) -> str:
    """rate | seconds | count: what a weekly value of this rule is."""
    return KIND.get(rule.check, "count")


def threshold(rule: Rule) -> tuple[float | None, str]:
    """The rule's limit and whether values must stay at least (`min`) or at most (`max`) it."""
    p = rule.params
    if rule.check == "reply_rate":
        return p["min_rate"], "min"
    if rule.check == "review_rate":
        return (p["min_rate"], "min") if p.get("measure") == "good_rate" else (p.get("max_rate"), "max")
    if rule.check == "average_wait":
        return p["max_seconds"], "max"
    return p.get("max_count"), "max"


def weekly(stored: pl.LazyFrame, ruleset: Ruleset, *, weeks: int, rule: str | None = None, agent: str | None = None) -> pl.DataFrame:
    """Per rule, shop and agent (null: the shop) and natural week: numerator, denominator,
    value (rate, mean seconds or occurrences, by `kind`), coverage (days), the rule's
    threshold and direction, whether the value misses it, and whether the week is partial
    (it holds the last stored day and that day is not its Sunday)."""
    rules = {r.code: r for r in ruleset.rules if r.check != "data_quality"}
    rows = stored.filter(pl.col("rule").is_in(list(rules)))
    if rule:
        rows = rows.filter(pl.col("rule") == rule)
    if agent:
        rows = rows.filter(pl.col("agent").is_null() | (pl.col("agent") == agent))
    rows = rows.with_columns(pl.col("day").dt.truncate("1w").alias("week_start"))
    last_week, last_day = rows.select(pl.col("week_start").max(), pl.col("day").max()).collect().row(0)
    if last_week is None:
        return pl.DataFrame(schema=SCHEMA)
    first = last_week - timedelta(weeks=weeks - 1)
    kinds = {c: kind(r) for c, r in rules.items()}
    limits = {c: threshold(r) for c, r in rules.items()}
    per_rule = lambda mapping, dtype: pl.col("rule").replace_strict(mapping, return_dtype=dtype)  # noqa: E731
    value = (
        pl.when(pl.col("kind") == "count").then(pl.col("numerator"))
        .when(pl.col("denominator") > 0).then(pl.col("numerator") / pl.col("denominator"))
    )  # fmt: skip
    miss = pl.when(pl.col("direction") == "min").then(pl.col("value") < pl.col("threshold")).otherwise(pl.col("value") > pl.col("threshold"))
    order = {code: i for i, code in enumerate(rules)}
    return (
        rows.filter(pl.col("week_start") >= first)
        .group_by("rule", "scope", "shop", "agent", "week_start")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum(), pl.col("day").n_unique().cast(pl.Int64).alias("coverage"))
        .with_columns(
            per_rule(kinds, pl.String).alias("kind"),
            per_rule({c: v for c, (v, _) in limits.items()}, pl.Float64).alias("threshold"),
            per_rule({c: d for c, (_, d) in limits.items()}, pl.String).alias("direction"),
        )
        .with_columns(value.alias("value"))
        .with_columns(
            miss.alias("miss"),
            ((pl.col("week_start") == last_week) & (pl.lit(last_day) < pl.col("week_start") + timedelta(days=6))).alias("partial"),
            per_rule(order, pl.Int64).alias("_order"),
        )
        .sort("_order", "shop", pl.col("scope") == "shop", "agent", "week_start", nulls_last=True)
        .select(*SCHEMA)
        .collect()
    )


def scale_top(kind_: str, values: list[float | None], limit: float | None) -> float:
    """The top of a sparkline's fixed scale (its bottom is zero): 100 % for rates; for
    seconds and counts the larger of the threshold and the largest value."""
    if kind_ == "rate":
        return 1.0
    return max([v for v in values if v is not None] + [limit or 0.0, 1.0])


def sparkline(values: list[float | None], top: float = 1.0) -> str:
    """One bar per value on the scale 0..top; blank where missing."""
    steps = len(BARS) - 1
    return "".join(" " if v is None else BARS[max(0, min(steps, round(v / top * steps)))] for v in values)


def week_label(week: date, partial: bool) -> str:
    return f"{week:%m-%d}" + ("*" if partial else "")
