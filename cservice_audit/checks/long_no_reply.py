"""Long no-reply (长时间不回复): a turn asked inside the window and not answered in time.

What it checks
    Every turn whose first buyer message is inside `window` and that has no reply before
    local midnight of that day (default), or, with `max_wait`, within `max_wait` seconds.
    Each such turn is one finding (one occurrence, `points` each). With `max_wait`, a turn
    whose deadline lies past the end of the data is reported as pending (info), not as a
    violation. Per scope and period, the metric counts occurrences (numerator) among the
    turns counted (denominator); it fails when occurrences exceed `max_count` (default 0).

Why it matters
    Pinduoduo deducts 10 points per long no-reply in its 30-day service tally.

Parameters
    window, reply_roles, max_wait, max_count, period, min_count, scopes; `points` per finding.

Example finding
    PDD-N1 error 小美 conv 店/买家A 2026-11-22 21:40: buyer asked at 21:40:05, no reply before midnight
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.items import in_window
from cservice_audit.checks.occurrences import occurrence_escalations, occurrence_findings, tally
from cservice_audit.params import COMMON, DAYTIME, REPLY_ROLES, Param
from cservice_audit.ruleset import Rule

PARAMS = {
    "window": Param("window", "local time of day in which a turn's first message is counted", DAYTIME),
    "reply_roles": Param("subset", "whose messages count as replies", ["agent"], REPLY_ROLES),
    "max_wait": Param("seconds", "deadline after the message (none: local midnight of its day)", None),
    **COMMON,
    "max_count": Param("count", "the period fails when occurrences exceed this", 0),
}


def validate(params: dict) -> None:
    """All parameters are checked one by one; nothing depends on another."""


def judged_turns(rule: Rule, context: Context) -> pl.LazyFrame:
    """Counted turns with `late` (a violation) and `pending` (cannot be judged yet)."""
    params = rule.params
    turns = context.waits(params["reply_roles"]).filter(
        pl.col("turn_start") & in_window(params["window"]) & context.judged_days()
    )
    if params["max_wait"] is None:
        deadline = pl.col("day").dt.offset_by("1d").cast(pl.Datetime("ms")).dt.replace_time_zone(context.timezone)
        late = pl.col("reply_ts").is_null() | (pl.col("reply_ts") >= deadline)
        pending = pl.lit(False)
    else:
        deadline = pl.col("ts") + timedelta(seconds=params["max_wait"])
        late = pl.col("reply_ts").is_null() | (pl.col("reply_ts") > deadline)
        reaches = pl.lit(context.data_end) >= deadline if context.data_end is not None else pl.lit(False)
        pending = pl.col("reply_ts").is_null() & ~reaches
    return turns.with_columns(deadline.alias("deadline"), (late & ~pending).alias("late"), pending.alias("pending"))


def run(rule: Rule, context: Context) -> CheckOutput:
    turns = judged_turns(rule, context)
    metrics, days = tally(context, rule, turns.with_columns(pl.col("late").alias("hit")))

    reported = turns.filter(pl.col("late") | pl.col("pending"))
    local = "%Y-%m-%d %H:%M:%S"
    what = pl.when(pl.col("pending")).then(
        pl.format("pending: asked {}, no reply yet; judged after {}", pl.col("ts").dt.strftime(local), pl.col("deadline").dt.strftime(local))
    ).when(pl.col("reply_ts").is_null()).then(
        pl.format("asked {}, never answered", pl.col("ts").dt.strftime(local))
    ).otherwise(
        pl.format("asked {}, first reply {} (after {})", pl.col("ts").dt.strftime(local), pl.col("reply_ts").dt.strftime(local), pl.col("deadline").dt.strftime(local))
    )
    findings = occurrence_findings(reported, rule, what, pl.col("text").fill_null(""), pending=pl.col("pending"))
    findings = pl.concat([findings, occurrence_escalations(metrics, rule, context)], how="diagonal_relaxed")
    return CheckOutput(metrics, findings, days)

