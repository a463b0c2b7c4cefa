"""The example finding `explain CODE` prints: a made-up finding of the rule explained, written
with the message its check writes (the same catalogue keys and builders) and the rule's own
code, title, unit, limits and words; the check's docstring keeps a general example for readers
of the code. Each check's `example(rule, lang)` gives its lines."""

from __future__ import annotations

import re
import re._parser as sre
from datetime import date, datetime

import polars as pl

from cservice_audit.i18n import t
from cservice_audit.metrics import periods
from cservice_audit.ruleset import Rule

AGENT = "小美"
DAY = date(2026, 11, 22)
ASKED = datetime(2026, 11, 22, 9, 17, 30)
CONVERSATION = "示例店-20261122-000042"
ROW = ("day.csv", 42)


def period_row(rule: Rule) -> pl.DataFrame:
    """One failed period of the rule, over by the example's day (a natural month: its last
    day), as the columns a rate message reads (items.period_label)."""
    period = rule.params["period"]
    row = periods.assign(pl.LazyFrame({"day": [DAY]}), period, DAY).collect()
    return row.with_columns(pl.lit(period).alias("period"), pl.lit(True).alias("complete"))


def rate_line(rule: Rule, lang: str, message: dict[str, pl.Expr], **values: float) -> str:
    """`CODE severity 小美: message` of a rate or mean, the message a check's column expression
    evaluated on one period with `values` (value, numerator, denominator)."""
    text = period_row(rule).with_columns(**{k: pl.lit(v) for k, v in values.items()}).select(message[lang]).item()
    return t("explain.example_rate", lang, code=rule.code, severity=t(f"severity.{rule.severity}", lang), agent=AGENT, message=text)


def item_line(rule: Rule, lang: str, what: str, at: datetime = ASKED) -> str:
    """`CODE severity 小美 conversation … time: title: what` of one occurrence."""
    return t(
        "explain.example_item", lang, code=rule.code, severity=t(f"severity.{rule.severity}", lang), agent=AGENT,
        conversation=CONVERSATION, time=f"{at:%H:%M:%S}", message=t("finding.occurrence", lang, title=rule.title, what=what),
    )  # fmt: skip


def shortest_match(pattern: str) -> str:
    """A shortest text `pattern` matches, read off its parse: the first alternative of each
    choice (the first without Latin letters), each repeat its least times, a class its first character (a phrase rule written as
    patterns only still gets a match of its own to show)."""

    def walk(items) -> str:
        out = ""
        for op, arg in items:
            if op is sre.LITERAL:
                out += chr(arg)
            elif op is sre.SUBPATTERN:
                out += walk(arg[-1])
            elif op is sre.BRANCH:  # the first alternative in the chat's own script (not 'extra')
                texts = [walk(branch) for branch in arg[1]]
                out += next((x for x in texts if not re.search("[A-Za-z]", x)), texts[0])
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                out += walk(arg[2]) * arg[0]
            elif op is sre.IN:  # a class's first character; any character for a negated one
                chars = [chr(a) if o is sre.LITERAL else chr(a[0]) for o, a in arg if o in (sre.LITERAL, sre.RANGE)]
                out += "…" if arg[0][0] is sre.NEGATE or not chars else chars[0]
            elif op is sre.ANY:
                out += "…"
        return out

    # The Rust engine's ASCII word boundary, (?-u:\b), is no Python syntax; zero-width, it adds
    # nothing to a match (TB-P4's first pattern has hb between two since the nineteenth pass).
    return walk(sre.parse(re.sub(r"\(\?-u:(\\[bB])\)", "", pattern)))
