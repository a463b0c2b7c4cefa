"""Review rate (评价): the good-review rate, or the share of bad reviews that blame attitude.

What it checks
    Review rows (role `review`) counted on the day of their `ts`, inside `window`; with
    `human_only`, reviews of robot-served sessions (`served_by: bot`) are left out, without
    it they count (Kuaishou's 服务态度差比例 counts them: 「商家使用智能机器人等工具提供服务的，
    同样纳入考核」). Each review belongs to the agent it rates (spec §6): a robot-served review
    with the robot's account counts for that account and for the shop.
    - `measure: good_rate`: satisfied / (satisfied + neutral + disappointed); fails below
      `min_rate`.
    - `measure: attitude_share`: (neutral + disappointed whose reason mentions one of
      `reasons`) / (neutral + disappointed); fails above `max_rate`. The denominator is the
      neutral and disappointed reviews only.
    With fewer than `min_count` counted reviews the status is `insufficient`.

Why it matters
    Kuaishou judges 人工客服好评率 per natural week (at least 80%) and 服务态度差比例 per natural
    month (at most 6%); failing costs fines (and, for the good-review rate, 2 points), and
    repeated failures are treated one tier up (escalation tiers in the ruleset).

Parameters
    measure, min_rate, max_rate, reasons, human_only, window, period, min_count, scopes.

Example finding
    KS-G1 error 小周 week 2026-11-16..2026-11-22: 人工客服好评率 62.5% (5/8 reviews) below 80%
"""

from __future__ import annotations

import math

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.example import rate_line
from cservice_audit.checks.items import in_window, rate_evidence, rate_findings, rate_messages, summarize
from cservice_audit.errors import Term
from cservice_audit.params import COMMON, DAYTIME, Param, ParamError
from cservice_audit.ruleset import Rule
from cservice_audit.text import normalize, normalize_phrases

BAD = ["neutral", "disappointed"]

PARAMS = {
    "measure": Param("choice", "good_rate or attitude_share", None, ("good_rate", "attitude_share")),
    "min_rate": Param("optional_rate", "good_rate fails below this", None),
    "max_rate": Param("optional_rate", "attitude_share fails above this", None),
    "reasons": Param("optional_phrases", "attitude_share: reasons that blame the service attitude", None),
    "human_only": Param("flag", "leave out reviews of robot-served sessions", True),
    "window": Param("window", "local time of day in which a review counts", DAYTIME),
    **COMMON,
}


def validate(params: dict) -> None:
    if params["measure"] == "good_rate" and params["min_rate"] is None:
        raise ParamError("param.good_rate")
    if params["measure"] == "attitude_share" and (params["max_rate"] is None or not params["reasons"]):
        raise ParamError("param.attitude_share")


def review_items(context: Context, rule: Rule, scope: str) -> pl.LazyFrame:
    params = rule.params
    reviews = context.events.filter(
        (pl.col("role") == "review") & in_window(params["window"]) & context.judged_days()
    )
    if params["human_only"]:
        reviews = reviews.filter(pl.col("served_by") != "bot")
    if params["measure"] == "good_rate":
        counted = reviews.with_columns((pl.col("rating") == "satisfied").alias("good"))
    else:
        blames = normalize(pl.col("reason").fill_null("")).str.contains_any(normalize_phrases(params["reasons"]))
        counted = reviews.filter(pl.col("rating").is_in(BAD)).with_columns(blames.alias("good"))
    return counted.select(
        "shop",
        pl.col("agent") if scope == "agent" else pl.lit(None, dtype=pl.String).alias("agent"),
        "day",
        "good",
        pl.lit(None, dtype=pl.Float64).alias("wait"),
    )


def _measure(rule: Rule) -> tuple[pl.Expr, float, str, str]:
    """(failing, threshold, below/above, what is counted) of the rule's measure."""
    params = rule.params
    if params["measure"] == "good_rate":
        return pl.col("value") < params["min_rate"], params["min_rate"], "below", "reviews"
    return pl.col("value") > params["max_rate"], params["max_rate"], "above", "bad_reviews"


def example(rule: Rule, lang: str) -> list[str]:
    """8 reviews, two good ones fewer than the rule needs, or one attitude review more than it
    allows (explain)."""
    _, threshold, word, counted = _measure(rule)
    n = max(0, math.ceil(threshold * 8) - 2) if word == "below" else min(8, math.floor(threshold * 8) + 1)
    return [rate_line(rule, lang, rate_messages(f"finding.rate_{word}", rule, f"unit.{counted}", threshold), value=n / 8, numerator=n, denominator=8)]


def run(rule: Rule, context: Context) -> CheckOutput:
    params = rule.params
    rate = pl.col("numerator") / pl.col("denominator")
    failing, threshold, word, counted = _measure(rule)
    metrics, days = summarize(context, rule, pl.col("good"), pl.lit(True), rate, failing, threshold, items_of=review_items, has_waits=False)
    describe = rate_messages(f"finding.rate_{word}", rule, f"unit.{counted}", threshold)
    served = Term("evidence.human_only" if params["human_only"] else "evidence.with_robot")
    evidence = rate_evidence("evidence.reviews", noun=Term(f"noun.{counted}"), served=served, window=params["window"].label())
    return CheckOutput(metrics, rate_findings(metrics, rule, describe, evidence, context), days)
