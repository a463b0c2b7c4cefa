"""Average wait (平均响应时长): the mean seconds from a counted item to its first reply.

What it checks
    The same items as the reply-rate check (`unit`: message, turn or conversation, start
    inside `window`). With `cap`, every wait counts at most `cap` seconds and an unanswered
    item counts as `cap`; without it, only answered items count. value = total wait /
    items; fails above `max_seconds`. numerator is the total (capped) wait in seconds,
    denominator the number of items that count.

Why it matters
    Douyin shows the mean response time per agent (guidance ≤ 40 s), Taobao scores 人工平响
    with each turn capped at 600 s, JD's 咚咚 average response must stay under 40 s.

Parameters
    unit, window, reply_roles, max_seconds, cap, period, min_count, scopes.

Example finding
    DY-A1 error 阿强 2026-11-22: 平均响应时长 95.0 s over 11 turns, above 40 s
"""

from __future__ import annotations

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.example import rate_line
from cservice_audit.checks.late import late_items
from cservice_audit.checks.items import period_label, rate_evidence, rate_findings, summarize
from cservice_audit.errors import Term
from cservice_audit.i18n import LANGS, t, text_expr
from cservice_audit.params import COMMON, DAYTIME, REPLY_ROLES, Param, ParamError
from cservice_audit.ruleset import Rule

PARAMS = {
    "unit": Param("choice", "what one counted item is", "turn", ("message", "turn", "conversation")),
    "window": Param("window", "local time of day in which an item's start is counted", DAYTIME),
    "reply_roles": Param("subset", "whose messages count as replies", ["agent"], REPLY_ROLES),
    "max_seconds": Param("seconds", "the rule fails when the mean wait is above this"),
    "cap": Param("seconds", "count each wait at most this; unanswered counts as cap (none: answered only)", None),
    **COMMON,
}


def validate(params: dict) -> None:
    if params["cap"] is not None and params["cap"] <= 0:
        raise ParamError("param.cap")


def _describe(rule: Rule) -> dict[str, pl.Expr]:
    params = rule.params
    return {
        lang: text_expr(
            "finding.wait_above",
            lang,
            title=rule.title,
            value=pl.col("value").round(1),
            n=pl.col("denominator"),
            unit=t(f"unit.{params['unit']}", lang),
            threshold=f"{params['max_seconds']:g}",
            period=period_label(lang),
        )
        for lang in LANGS
    }


def example(rule: Rule, lang: str) -> list[str]:
    """A mean of 11 items, twice the limit and a quarter more (explain)."""
    mean = rule.params["max_seconds"] * 2.25
    return [rate_line(rule, lang, _describe(rule), value=mean, numerator=mean * 11, denominator=11)]


def run(rule: Rule, context: Context) -> CheckOutput:
    params = rule.params
    cap = params["cap"]
    if cap is None:
        waits, counted = pl.col("wait"), pl.col("wait").is_not_null()
    else:
        waits, counted = pl.min_horizontal(pl.col("wait"), pl.lit(cap)).fill_null(cap), pl.lit(True)
    mean = pl.col("numerator") / pl.col("denominator")
    failing = pl.col("value") > params["max_seconds"]
    metrics, days = summarize(context, rule, waits, counted, mean, failing, params["max_seconds"])
    describe = _describe(rule)
    noun, window = Term(f"noun.{params['unit']}"), params["window"].label()
    if cap is None:
        evidence = rate_evidence("evidence.wait_answered", noun=noun, window=window)
    else:
        evidence = rate_evidence("evidence.wait_capped", noun=noun, window=window, cap=f"{cap:g}")
    # The drill-down: the counted items that wait longer than the limit on the mean, and
    # (with a cap) the unanswered ones, which count as cap; without a cap they do not count.
    items = late_items(context, rule, counted & (pl.col("wait").is_null() | (pl.col("wait") > params["max_seconds"])))
    return CheckOutput(metrics, rate_findings(metrics, rule, describe, evidence, context), days, items)
