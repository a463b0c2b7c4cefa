"""Repeated script (重复话术 / 敷衍): the same reply pasted again and again in one conversation.

What it checks
    Messages of `roles` (agent by default), normalized as for phrase rules (spec §7). When
    the same agent sends the same normalized text, at least `min_chars` characters long, at
    least `min_repeats` times in one conversation, that is one finding per (conversation,
    agent, text), dated at its first use. Per scope and period the metric counts such
    repeats among the (conversation, agent, text) groups long enough to count.

Why it matters
    Pinduoduo treats perfunctory copy-paste answers as poor service (敷衍), and Kuaishou
    advises not to reuse the same script (相同的话术不要重复使用).

Parameters
    min_chars, min_repeats, roles, period, max_count, scopes; `points` per finding.

Example finding
    KS-S1 warning 小周 conv 店/buyer_00007: same reply sent 4 times: "亲，已经在帮您催促了哦"
"""

from __future__ import annotations

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.example import item_line
from cservice_audit.checks.occurrences import occurrence_escalations, occurrence_findings, tally
from cservice_audit.i18n import t, text_exprs
from cservice_audit.params import OCCURRENCE, REPLY_ROLES, Param, ParamError
from cservice_audit.ruleset import Rule

PARAMS = {
    "min_chars": Param("count", "shorter normalized texts (您好, 在的) never count", 8),
    "min_repeats": Param("count", "how many sends in one conversation make a finding", 3),
    "roles": Param("subset", "whose messages are checked", ["agent"], REPLY_ROLES),
    **OCCURRENCE,
}


def validate(params: dict) -> None:
    if params["min_repeats"] < 2:
        raise ParamError("param.min_repeats")


def example(rule: Rule, lang: str) -> list[str]:
    """One reply sent `min_repeats` times in a conversation (explain)."""
    return [item_line(rule, lang, t("finding.repeated", lang, n=rule.params["min_repeats"]))]


def run(rule: Rule, context: Context) -> CheckOutput:
    params = rule.params
    groups = (
        context.texts(params["roles"])
        .filter(pl.col("norm").str.len_chars() >= params["min_chars"])
        .group_by("shop", "conversation", "agent", "norm")
        .agg(
            pl.len().alias("sends"),
            pl.col("buyer").first(),
            pl.col("ts").min(),
            pl.col("day").min(),
            pl.col("text").sort_by("_order").first(),
        )
        .with_columns((pl.col("sends") >= params["min_repeats"]).alias("hit"))
    )
    metrics, days = tally(context, rule, groups)
    findings = occurrence_findings(
        groups.filter(pl.col("hit")),
        rule,
        text_exprs("finding.repeated", n=pl.col("sends")),
        pl.col("text"),
        match=pl.col("norm"),
    )
    findings = pl.concat([findings, occurrence_escalations(metrics, rule, context)], how="diagonal_relaxed")
    return CheckOutput(metrics, findings, days)
