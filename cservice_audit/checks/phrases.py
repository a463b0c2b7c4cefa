"""Phrases (话术): agent (or robot) messages that contain a listed phrase or pattern.

What it checks
    Every message of `roles` (agent by default) on the judged days, after normalization
    (NFKC, lower case, traditional -> simplified, white space and zero-width characters
    removed: spec §7), against literal `phrases` and regular expressions `patterns`
    normalized the same way. Phrases in `allow` are removed from the text first, so
    everyday words that contain a listed one do not fire (最近 for 最, 第一次 for 第一).
    One finding per matching message, with the matched text, the message, agent,
    conversation and time; `points` each. Per scope and period the metric counts
    matching messages among the messages checked; it fails above `max_count` (default 0).

Why it matters
    Insults and threats (PDD 不良服务态度, −30 points each), confrontational replies
    (Kuaishou 反问/质问/推诿), off-platform contact, review bribery, advertising-law extreme
    words and invoice refusals are what buyers complain about and platforms punish.

Parameters
    phrases, patterns, allow, roles, period, max_count, scopes; `points` per finding.

Example finding
    PDD-P2 error 阿强 conv 店/buyer_00042 14:03:11: 站外联系 matched '加微信' in "亲，加微信发你优惠券"
"""

from __future__ import annotations

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.occurrences import occurrence_escalations, occurrence_findings, tally
from cservice_audit.params import OCCURRENCE, REPLY_ROLES, Param, ParamError
from cservice_audit.ruleset import Rule
from cservice_audit.text import combined_pattern, normalize_phrases

PARAMS = {
    "phrases": Param("optional_phrases", "literal phrases (normalized like the messages)", None),
    "patterns": Param("regexes", "regular expressions, matched case-insensitively on normalized text", None),
    "allow": Param("optional_phrases", "everyday phrases removed before matching (false positives)", None),
    "roles": Param("subset", "whose messages are checked", ["agent"], REPLY_ROLES),
    **OCCURRENCE,
}


def validate(params: dict) -> None:
    if not params["phrases"] and not params["patterns"]:
        raise ParamError("give phrases, patterns or both")


def matched_text(params: dict) -> pl.Expr:
    """The first listed phrase or pattern found in `norm`, or null."""
    text = pl.col("norm")
    allow = normalize_phrases(params["allow"] or ())
    if allow:
        text = text.str.replace_many(allow, [""] * len(allow))
    candidates = []
    phrases = normalize_phrases(params["phrases"] or ())
    if phrases:
        candidates.append(text.str.extract_many(phrases).list.first())
    pattern = combined_pattern(params["patterns"] or ())
    if pattern:
        candidates.append(text.str.extract(pattern, 1))
    return pl.coalesce(candidates)


def run(rule: Rule, context: Context) -> CheckOutput:
    params = rule.params
    texts = context.texts(params["roles"])
    # Matching runs once per distinct normalized text (chat texts repeat), then joins back.
    matches = texts.select("norm").unique().with_columns(matched_text(params).alias("match"))
    checked = texts.join(matches, on="norm", how="left", nulls_equal=True, maintain_order="left")
    checked = checked.with_columns(pl.col("match").is_not_null().alias("hit"))
    metrics, days = tally(context, rule, checked)
    findings = occurrence_findings(
        checked.filter(pl.col("hit")),
        rule,
        pl.format("matched '{}'", pl.col("match")),
        pl.col("text"),
        match=pl.col("match"),
    )
    findings = pl.concat([findings, occurrence_escalations(metrics, rule, context)], how="diagonal_relaxed")
    return CheckOutput(metrics, findings, days)
