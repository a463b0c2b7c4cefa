"""Counted items of reply rules (spec/metrics.md §4) and their per-scope, per-period totals.

An item is a buyer message, a turn, a buyer-day or a conversation, depending on the rule's
`unit`. Every item carries `wait` (seconds; null when unanswered), `day` and `agent`, so the
reply-rate and average-wait checks differ only in how they sum items up.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from cservice_audit.checks.context import Context
from cservice_audit.checks.escalation import escalate_failed_periods
from cservice_audit.formatting import format_text
from cservice_audit.i18n import LANGS, text_expr, text_exprs
from cservice_audit.metrics import periods
from cservice_audit.metrics.rollup import day_rows, period_rows
from cservice_audit.params import Window
from cservice_audit.ruleset import Rule
from cservice_audit.schema import METRIC_SCHEMA, conform

UNITS = ("message", "turn", "buyer_day", "conversation")
def in_window(window: Window) -> pl.Expr:
    """The event's local time of day (`tod`, seconds) falls in [start, end): 22:59:59 is in,
    23:00:00 is out."""
    return (pl.col("tod") >= window.start) & (pl.col("tod") < window.end)


def reply_items(context: Context, rule: Rule, scope: str) -> pl.LazyFrame:
    """The rule's counted items for one scope: shop, agent, buyer, conversation, day, ts, wait,
    reply_ts and handled_by (the agent the item is attributed to, also at shop scope)."""
    params = rule.params
    unit = params["unit"]
    waits = context.waits(params["reply_roles"])
    # Inclusion is decided by the start event: the message (or turn / conversation start).
    starts = {"message": None, "turn": "turn_start", "buyer_day": None, "conversation": "conversation_start"}[unit]
    if params.get("topic"):
        # Only turns whose buyer text mentions the topic count (e.g. quality complaints). Any
        # message of the turn may mention it, even one sent after the window closed: the
        # window decides by the turn's start, not by where the topic word falls.
        waits = context.topic_waits(params["reply_roles"], params["topic"])
    counted = waits.filter(in_window(params["window"]) & context.judged_days())
    if starts is not None:
        counted = counted.filter(pl.col(starts))
    if unit != "buyer_day":
        return counted.select(
            "shop", "agent", "buyer", "conversation", "day", "ts", "wait", "reply_ts", pl.col("agent").alias("handled_by")
        )
    # A buyer-day is on time only when every one of its messages is: its wait is the
    # longest message wait, and unanswered (null) whenever any message is unanswered.
    # Its conversation, ts and reply_ts are those of that worst message (the first
    # unanswered one, else the longest wait; then the earliest), so a drill-down names it.
    keys = ["shop", "buyer", "day"] + (["agent"] if scope == "agent" else [])
    worst = [pl.col("wait").is_not_null(), pl.col("wait"), pl.col("ts"), pl.col("conversation")]

    def of_worst(name: str) -> pl.Expr:
        return pl.col(name).sort_by(worst, descending=[False, True, False, False], nulls_last=True).first()

    return counted.group_by(keys).agg(
        of_worst("conversation"),
        of_worst("ts"),
        pl.when(pl.col("wait").null_count() > 0).then(None).otherwise(pl.col("wait").max()).alias("wait"),
        of_worst("reply_ts"),
        of_worst("agent").alias("handled_by"),
        *([] if scope == "agent" else [pl.lit(None, dtype=pl.String).alias("agent")]),
    )


def summarize(
    context: Context,
    rule: Rule,
    numerator: pl.Expr,
    counted: pl.Expr,
    value: pl.Expr,
    failing: pl.Expr,
    threshold: float,
    items_of: Callable[[Context, Rule, str], pl.LazyFrame] = reply_items,
    has_waits: bool = True,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Metric rows of one rule per scope and period (METRIC_SCHEMA), and its day rows.

    `items_of(context, rule, scope)` gives the counted items (shop, agent, day and `wait`,
    null where it does not apply; `has_waits=False` for items that never have one). Per day, `numerator` is summed over the items where
    `counted` holds and `denominator` counts them; stored days from the history join the
    current ones (metrics/rollup.py); `value` and `failing` are expressions on a period's
    sums. Wait quantiles come from this run's items only (they do not add up over days).
    """
    params = rule.params
    day_frames, quantile_frames = [], []
    for scope in params["scopes"]:
        items = items_of(context, rule, scope)
        day_frames.append(day_rows(items, rule.code, scope, numerator, counted))
        keys = ["shop", "period_start", "period_end"] + (["agent"] if scope == "agent" else [])
        answered = pl.col("wait").drop_nulls()
        quantiles = periods.assign(items, params["period"], context.as_of).group_by(keys).agg(
            answered.quantile(0.5, interpolation="linear").alias("wait_p50"),
            answered.quantile(0.9, interpolation="linear").alias("wait_p90"),
        )
        if scope == "shop":
            quantiles = quantiles.with_columns(pl.lit(None, dtype=pl.String).alias("agent"))
        quantile_frames.append(quantiles.with_columns(pl.lit(scope).alias("scope")))
    current = pl.concat(day_frames, how="vertical")
    per_period = period_rows(context.with_history(current, rule.code), params["period"], context.as_of).join(
        pl.concat(quantile_frames, how="diagonal"),
        on=["scope", "shop", "agent", "period_start", "period_end"],
        how="left",
        nulls_equal=True,
    )
    metrics = conform(
        # No counted item (e.g. an agent whose turns all went unanswered, without a cap): no value.
        per_period.with_columns(pl.when(pl.col("denominator") > 0).then(value).alias("value")).with_columns(
            pl.lit(rule.code).alias("rule"),
            pl.lit(rule.name).alias("name"),
            pl.lit(params["period"]).alias("period"),
            (pl.col("period_end") <= context.as_of).alias("complete"),
            pl.lit(threshold, dtype=pl.Float64).alias("threshold"),
            periods.status(failing, pl.col("denominator"), params["min_count"], context.as_of).alias("status"),
            pl.when(pl.col("answered") > 0).then(pl.col("wait_sum") / pl.col("answered")).alias("wait_mean"),
            pl.lit(0.0).alias("points"),
        ).with_columns(
            # Review items have no wait: no answered count or wait figures for them.
            *([] if has_waits else [pl.lit(None, dtype=pl.Int64).alias("answered")]),
        ),
        METRIC_SCHEMA,
    )
    return with_tier_points(metrics, rule), current


def rate_findings(
    metrics: pl.LazyFrame, rule: Rule, describe: dict[str, pl.Expr], evidence: dict[str, pl.Expr], context: Context
) -> pl.LazyFrame:
    """One finding per failing (rule severity) or at-risk (warning) scope-period that this run
    reports; a repeated failure takes its escalation tier (escalation.py). `describe` is the
    message and `evidence` how it was counted, each in every language (`i18n.text_exprs`,
    `rate_evidence`)."""
    failing = escalate_failed_periods(metrics.filter(pl.col("status").is_in(["fail", "at_risk"])), rule)
    severity = (
        pl.when(pl.col("status") != "fail").then(pl.lit("warning"))
        .when(pl.col("tier_severity").is_not_null()).then(pl.col("tier_severity"))
        .otherwise(pl.lit(rule.severity))
    )  # fmt: skip
    return failing.filter(context.reported_periods()).select(
        pl.lit(rule.code).alias("code"),
        severity.alias("severity"),
        pl.lit(rule.name).alias("name"),
        "scope",
        "shop",
        "agent",
        pl.when(pl.col("period") == "day").then(pl.col("period_start")).alias("day"),
        "period",
        "period_start",
        describe["en"].alias("message"),
        describe["zh"].alias("message_zh"),
        evidence["en"].alias("evidence"),
        evidence["zh"].alias("evidence_zh"),
        (pl.lit(float(rule.points)) + _tier_points()).alias("points"),
        "tier",
        "penalty",
        "status",
    )


def _tier_points() -> pl.Expr:
    """A failed period's tier points (escalation `points`); none while only at risk."""
    return pl.when(pl.col("status") == "fail").then(pl.col("tier_points")).otherwise(None).fill_null(0.0)


def with_tier_points(metrics: pl.LazyFrame, rule: Rule) -> pl.LazyFrame:
    """Metric rows whose failed period reaches a tier with points carry them (the points in
    force, docs/metrics.md); nothing changes for rules whose tiers have none."""
    if rule.escalation is None or not any(t.points for t in rule.escalation.tiers):
        return metrics
    keys = ["scope", "shop", "agent", "period_start"]
    tiered = escalate_failed_periods(metrics.filter(pl.col("status") == "fail"), rule).select(*keys, "status", "tier_points")
    return (
        metrics.join(tiered, on=[*keys, "status"], how="left", nulls_equal=True, maintain_order="left")
        .with_columns((pl.col("points") + _tier_points()).alias("points"))
        .drop("tier_points")
    )


def period_label(lang: str = "en") -> pl.Expr:
    """`2026-11-22`, `week 2026-11-16..2026-11-22 (so far)`, ... in `lang`."""
    span = format_text("{}..{}", pl.col("period_start"), pl.col("period_end"))
    label = (
        pl.when(pl.col("period") == "day").then(pl.col("period_start").cast(pl.String))
        .when(pl.col("period") == "natural_week").then(text_expr("finding.week", lang, span=span))
        .when(pl.col("period") == "natural_month").then(text_expr("finding.month", lang, month=pl.col("period_start").dt.strftime("%Y-%m")))
        .otherwise(text_expr("finding.rolling", lang, span=span))
    )  # fmt: skip
    return pl.when(pl.col("complete")).then(label).otherwise(text_expr("finding.so_far", lang, label=label))


def rate_evidence(key: str, **values: object) -> dict[str, pl.Expr]:
    """How a rate was counted, in each language (catalogue `evidence.*`): the same text on
    every finding of the rule. A value that is a `Term` is a catalogue word, a tuple of
    Terms is written joined by "/"; anything else is shown as it is."""
    from cservice_audit.errors import Term
    from cservice_audit.i18n import t

    def shown(value: object, lang: str) -> object:
        if isinstance(value, Term):
            return t(value.key, lang)
        if isinstance(value, tuple):
            return "/".join(str(shown(v, lang)) for v in value)
        return value

    return {lang: pl.lit(t(key, lang, **{k: shown(v, lang) for k, v in values.items()})) for lang in LANGS}


def rate_messages(key: str, rule: Rule, unit: str, threshold: float) -> dict[str, pl.Expr]:
    """The message of a failing rate in each language (catalogue `finding.rate_*`); `unit` is
    a catalogue `unit.*` key."""
    from cservice_audit.i18n import t

    return {
        lang: text_expr(
            key,
            lang,
            title=rule.title,
            value=(pl.col("value") * 100).round(1),
            num=pl.col("numerator").cast(pl.Int64),
            den=pl.col("denominator"),
            unit=t(unit, lang),
            threshold=round(threshold * 100, 1),
            period=period_label(lang),
        )
        for lang in LANGS
    }
