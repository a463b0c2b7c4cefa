"""Phrases (话术): agent (or robot) messages that contain a listed phrase or pattern.

What it checks
    Every message of `roles` (agent by default) on the judged days, after normalization
    (NFKC, lower case, traditional -> simplified, white space and zero-width characters
    removed: spec §7), against literal `phrases` and regular expressions `patterns`
    normalized the same way, plus the shared `lexicons` it names (data/lexicons/*.yaml).
    Phrases in `allow` are blanked out first, so everyday words that contain a listed one
    do not fire (最近 for 最, 第一次 for 第一, 微信支付 for 微信); a hit preceded by a
    `negate_before` cue (不能, 不要, 禁止, 平台规定 ...) or followed by a `negate_after` cue
    in the same clause is a warning, not the act; `sound_patterns` match what the message
    sounds like (pinyin without tones: 薇芯 and 家V read as 微信 and 加V). `excluded` lists
    source terms deliberately left out, each with its reason (data, not matched).
    One finding per matching message, with the matched text, the message, agent,
    conversation and time; `points` each. Per scope and period the metric counts
    matching messages among the messages checked; it fails above `max_count` (default 0).
    `cservice-audit check-text "..." -p PLATFORM` shows every step for one message.

Why it matters
    Insults and threats (PDD 不良服务态度, −30 points each), confrontational replies
    (Kuaishou 反问/质问/推诿), off-platform contact, review bribery, advertising-law extreme
    words and invoice refusals are what buyers complain about and platforms punish.

Parameters
    phrases, patterns, allow, lexicons, negate_before, negate_after, negation_window,
    sound_targets, sound_patterns, sound_allow, excluded, roles, period, max_count, scopes;
    `points` per finding.

Example finding
    PDD-P2 error 阿强 conv 店/buyer_00042 14:03:11: 站外联系 matched '加微信' in "亲，加微信发你优惠券"
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.occurrences import occurrence_escalations, occurrence_findings, tally
from cservice_audit.checks.example import item_line, shortest_match
from cservice_audit.i18n import LANGS, listed, t, text_expr
from cservice_audit.params import OCCURRENCE, REPLY_ROLES, Param, ParamError
from cservice_audit.phrase_engine import compile_params, lexicon, lexicon_error, match_distinct
from cservice_audit.ruleset import Rule


class _Reasons(Param):
    """A mapping of term -> why it is left out."""

    def parse(self, value: Any) -> dict[str, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()):
            raise ParamError("param.reasons", value=repr(value))
        return dict(value)


class _Lexicons(Param):
    """Names of shared lexicons (data/lexicons/<name>.yaml)."""

    def parse(self, value: Any) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ParamError("param.lexicons", value=repr(value))
        for name in value:
            problem = lexicon_error(name)
            if problem:
                raise problem
        return tuple(value)


class _Models(Param):
    """Names of shipped models (data/models/<name>.yaml)."""

    def parse(self, value: Any) -> tuple[str, ...] | None:
        from cservice_audit.phrase_engine import model_names

        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v in model_names() for v in value):
            raise ParamError("param.models", known=listed(model_names()), value=repr(value))
        return tuple(value)


class _Characters(Param):
    """A string of target characters for pronunciation matching."""

    def parse(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ParamError("param.characters", value=repr(value))
        return value


PARAMS = {
    "phrases": Param("optional_phrases", "literal phrases (normalized like the messages)", None),
    "patterns": Param("regexes", "regular expressions, matched case-insensitively on normalized text", None),
    "allow": Param("optional_phrases", "everyday phrases blanked out before matching (false positives)", None),
    "lexicons": _Lexicons("lexicons", "shared lexicons whose lists are added (data/lexicons/NAME.yaml)", None),
    "negate_before": Param("regexes", "cues that make a following hit a warning, not the act (不能, 禁止)", None),
    "negate_after": Param("regexes", "cues after a hit that make it a warning (是违规的)", None),
    "negation_window": Param("count", "characters allowed between a cue and a hit, within one clause", 8),
    "negation_scope": Param("choice", "how far a cue reaches: its clause, or the whole message", "clause", ("clause", "message")),
    "sound_targets": _Characters("characters", "characters whose sound-alikes are folded onto them (微信加)", None),
    "sound_patterns": Param("regexes", "regular expressions matched on the sound-folded text", None),
    "sound_allow": Param("optional_phrases", "everyday words blanked before sound folding (价位, 为新)", None),
    "excluded": _Reasons("reasons", "source terms deliberately not matched, with the reason", None),
    "blank_titles": Param("flag", "blank 《titles》 and announced names (色号“…”) like allow phrases", False),
    "blank_products": Param("flag", "blank quoted names on or of a product (“小笨蛋”字样, “穷鬼套餐”) like allow phrases", False),
    "models": _Models("models", "n-gram models scoring what no list matched (data/models/NAME)", None),
    "roles": Param("subset", "whose messages are checked", ["agent"], REPLY_ROLES),
    **OCCURRENCE,
}


def validate(params: dict) -> None:
    if not any(params[k] for k in ("phrases", "patterns", "lexicons", "sound_patterns", "models")):
        raise ParamError("param.phrases_needed")
    if params["sound_patterns"] and not params["sound_targets"] and not params["lexicons"]:
        raise ParamError("param.sound_targets")


def example(rule: Rule, lang: str) -> list[str]:
    """A message matching the rule's first literal phrase, its lexicons' first, else the
    shortest text its first pattern matches (explain)."""
    params = rule.params
    phrases = [*(params["phrases"] or ()), *(p for name in params["lexicons"] or () for p in lexicon(name).get("phrases") or ())]
    patterns = [*(params["patterns"] or ()), *(params["sound_patterns"] or ())]
    match = phrases[0] if phrases else shortest_match(patterns[0]) if patterns else ""
    return [item_line(rule, lang, t("finding.matched", lang, match=match))]


def run(rule: Rule, context: Context) -> CheckOutput:
    params = rule.params
    texts = context.texts(params["roles"])
    # Matching runs once per distinct normalized text (chat texts repeat), then joins back.
    matches = match_distinct(texts.select("norm").unique(), compile_params(params), cache=context.scores)
    checked = texts.join(matches, on="norm", how="left", nulls_equal=True, maintain_order="left")
    checked = checked.with_columns(pl.col("match").is_not_null().alias("hit"))
    metrics, days = tally(context, rule, checked)
    # `how` is phrase_engine's own English ("sounds like 加微信", "model NAME 0.93 >= 0.8");
    # the message takes its variable part into a catalogue sentence in each language.
    how = pl.col("how")
    what = {
        lang: pl.when(how.str.starts_with("sounds like "))
        .then(text_expr("finding.matched_sound", lang, match=pl.col("match"), sound=how.str.strip_prefix("sounds like ")))
        .when(how.str.starts_with("model "))
        .then(text_expr("finding.matched_model", lang, model=how.str.strip_prefix("model "), match=pl.col("match")))
        .otherwise(text_expr("finding.matched", lang, match=pl.col("match")))
        for lang in LANGS
    }
    findings = occurrence_findings(checked.filter(pl.col("hit")), rule, what, pl.col("text"), match=pl.col("match"))
    findings = pl.concat([findings, occurrence_escalations(metrics, rule, context)], how="diagonal_relaxed")
    return CheckOutput(metrics, findings, days)
