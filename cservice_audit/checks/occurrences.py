"""Tallies of occurrence rules: each occurrence is a finding; per scope and period the metric
counts occurrences (numerator) among the items looked at (denominator) and sums points.

Long no-reply, phrase and repeated-script rules are all of this kind.
"""

from __future__ import annotations

import polars as pl

from cservice_audit.checks.context import Context
from cservice_audit.checks.escalation import escalate_occurrences
from cservice_audit.i18n import LANGS, text_expr
from cservice_audit.metrics import periods
from cservice_audit.metrics.rollup import day_rows, period_rows
from cservice_audit.ruleset import Rule
from cservice_audit.schema import METRIC_SCHEMA, conform


def tally(context: Context, rule: Rule, items: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Metric rows (METRIC_SCHEMA) and day rows from `items` (shop, agent, day, hit: bool)."""
    params = rule.params
    current = pl.concat(
        [day_rows(items, rule.code, scope, pl.col("hit"), pl.lit(True)) for scope in params["scopes"]], how="vertical"
    )
    per_period = period_rows(context.with_history(current, rule.code), params["period"], context.as_of)
    failing = pl.col("numerator") > params["max_count"]
    metrics = conform(
        per_period.with_columns(
            pl.lit(rule.code).alias("rule"),
            pl.lit(rule.name).alias("name"),
            pl.lit(params["period"]).alias("period"),
            (pl.col("period_end") <= context.as_of).alias("complete"),
            pl.col("numerator").alias("value"),
            pl.lit(float(params["max_count"])).alias("threshold"),
            # An occurrence is itself a turn or message looked at: one carried from the night it
            # was asked (carry.py) keeps its denominator there, maybe under another agent, and a
            # −10 must not read "too few" (the agent left out of the failing ones and the push).
            periods.status(
                failing, pl.max_horizontal("denominator", "numerator"), params.get("min_count", 1), context.as_of
            ).alias("status"),
            # Spelled out so that "no occurrence" is 0 points, not the -0.0 of 0 × −10.
            pl.when(pl.col("numerator") > 0).then(pl.col("numerator") * float(rule.points)).otherwise(0.0).alias("points"),
        ).with_columns(
            # Occurrence rules have no waits: no answered count or wait figures.
            pl.lit(None, dtype=pl.Int64).alias("answered"),
        ),
        METRIC_SCHEMA,
    )
    return metrics, current


def _message(lang: str) -> str:
    """The findings column holding the message in `lang` (schema.FINDING_SCHEMA)."""
    return "message" if lang == "en" else f"message_{lang}"


def occurrence_findings(
    occurrences: pl.LazyFrame,
    rule: Rule,
    what: dict[str, pl.Expr],
    evidence: pl.Expr,
    match: pl.Expr | None = None,
    pending: pl.Expr | None = None,
) -> pl.LazyFrame:
    """One finding per occurrence row (shop, agent, conversation, buyer, day, ts): the rule's
    severity and points, or `info`, no points and status `pending` where `pending` holds. `what` is the
    occurrence in each language (`i18n.text_exprs`)."""
    pending = pending if pending is not None else pl.lit(False)
    return occurrences.select(
        pl.lit(rule.code).alias("code"),
        pl.when(pending).then(pl.lit("info")).otherwise(pl.lit(rule.severity)).alias("severity"),
        pl.lit(rule.name).alias("name"),
        pl.lit("agent").alias("scope"),
        "shop",
        "agent",
        "conversation",
        "buyer",
        "day",
        "ts",
        pl.lit("day").alias("period"),
        pl.col("day").alias("period_start"),
        *(text_expr("finding.occurrence", lang, title=rule.title, what=what[lang]).alias(_message(lang)) for lang in LANGS),
        evidence.str.slice(0, 300).alias("evidence"),
        (match if match is not None else pl.lit(None, dtype=pl.String)).alias("match"),
        pl.when(pending).then(0.0).otherwise(float(rule.points)).alias("points"),
        # A pending turn says so (schema 2.4): severity `info` alone did not tell it from a rule
        # a shop set to info, and the digest listed those as questions still to answer.
        pl.when(pending).then(pl.lit("pending")).otherwise(pl.lit(None, dtype=pl.String)).alias("status"),
    )


def occurrence_escalations(metrics: pl.LazyFrame, rule: Rule, context: Context) -> pl.LazyFrame:
    """One finding per reported scope-period whose occurrences reach an escalation tier
    (e.g. PDD: three bad-attitude findings in 30 days bring a platform warning)."""
    reached = escalate_occurrences(metrics, rule).filter(pl.col("tier").is_not_null() & context.reported_periods())
    return reached.select(
        pl.lit(rule.code).alias("code"),
        pl.col("tier_severity").alias("severity"),
        pl.lit(rule.name).alias("name"),
        "scope",
        "shop",
        "agent",
        "period",
        "period_start",
        *(
            text_expr(
                "finding.escalation", lang, title=rule.title, n=pl.col("numerator").cast(pl.Int64),
                start=pl.col("period_start"), end=pl.col("period_end"), tier=pl.col("tier"),
            ).alias(_message(lang))
            for lang in LANGS
        ),
        pl.col("penalty").alias("evidence"),
        pl.lit(0.0).alias("points"),
        "tier",
        "penalty",
    )
