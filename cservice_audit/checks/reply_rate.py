"""Reply rate (回复率): the share of counted items answered within a threshold.

What it checks
    Items are buyer messages, turns, buyer-days or conversations (`unit`) whose start lies
    inside the daily `window`; with `topic`, only those in turns whose buyer text mentions
    one of the topic phrases (normalized as for phrase rules). An item is on time when its wait until the first reply (a
    message from one of `reply_roles`) is at most `threshold` seconds; unanswered is late.
    rate = on time / counted, per agent and per shop, per `period`. It fails below
    `min_rate`; with fewer than `min_count` items the status is `insufficient`.

Why it matters
    Platforms rank and restrict shops on these rates (PDD 3- and 5-minute rates, Kuaishou's
    weekly 3-minute rate, Taobao's 30-day 3-minute response rate, JD's 30-second first answer).

Parameters
    unit, threshold, window, reply_roles, min_rate, topic, period, min_count, scopes.

Example finding
    PDD-R3 error 小美 2026-11-22: 3分钟人工回复率 72.7% (8/11 buyer-days) below 80%
"""

from __future__ import annotations

import math

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.example import rate_line
from cservice_audit.checks.late import late_items
from cservice_audit.checks.items import UNITS, rate_evidence, rate_findings, rate_messages, summarize
from cservice_audit.errors import Term
from cservice_audit.params import COMMON, DAYTIME, REPLY_ROLES, Param
from cservice_audit.ruleset import Rule

PARAMS = {
    "unit": Param("choice", "what one counted item is", None, UNITS),
    "threshold": Param("seconds", "on time when wait ≤ threshold"),
    "window": Param("window", "local time of day in which an item's start is counted", DAYTIME),
    "reply_roles": Param("subset", "whose messages count as replies", ["agent"], REPLY_ROLES),
    "min_rate": Param("rate", "the rule fails below this rate"),
    "topic": Param("optional_phrases", "only turns whose buyer text mentions one of these count", None),
    **COMMON,
}


def validate(params: dict) -> None:
    """All parameters are checked one by one; nothing depends on another."""


def _describe(rule: Rule) -> dict[str, pl.Expr]:
    return rate_messages("finding.rate_below", rule, f"unit.{rule.params['unit']}", rule.params["min_rate"])


def example(rule: Rule, lang: str) -> list[str]:
    """A period with 11 items, two fewer on time than the rule needs (explain)."""
    on_time = max(0, math.ceil(rule.params["min_rate"] * 11) - 2)
    return [rate_line(rule, lang, _describe(rule), value=on_time / 11, numerator=on_time, denominator=11)]


def run(rule: Rule, context: Context) -> CheckOutput:
    params = rule.params
    on_time = pl.col("wait").is_not_null() & (pl.col("wait") <= params["threshold"])
    rate = pl.col("numerator") / pl.col("denominator")
    metrics, days = summarize(
        context, rule, on_time, pl.lit(True), rate, pl.col("value") < params["min_rate"], params["min_rate"]
    )
    describe = _describe(rule)
    evidence = rate_evidence(
        "evidence.reply_rate",
        noun=Term(f"noun.{params['unit']}"),
        threshold=f"{params['threshold']:g}",
        roles=tuple(Term(f"role.{r}") for r in params["reply_roles"]),
        window=params["window"].label(),
    )
    # The drill-down: the counted items that are not on time (unanswered is late).
    items = late_items(context, rule, ~on_time)
    return CheckOutput(metrics, rate_findings(metrics, rule, describe, evidence, context), days, items)
