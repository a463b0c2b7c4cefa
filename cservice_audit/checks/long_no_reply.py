"""Long no-reply (长时间不回复): a turn not answered in time, one occurrence per turn.

What it checks
    Every turn (spec §3) against up to three clauses (spec §5); a turn that breaks any of
    them is ONE occurrence, however many clauses it breaks:
    - `same_day` (default on): the turn's first message is inside `window` and no reply
      comes before local midnight of that day. An unanswered turn is pending while its day
      is still running: neither the shop's data nor the run's clock has passed that midnight
      (a spot-check of today's export at 15:00). The nightly run after the day judges it,
      whatever hour the export's last message has.
    - `max_wait` (seconds, e.g. 86400 for 24 h): any turn, inside the window or not, has no
      reply within `max_wait`. Judged only when the data reaches `max_wait` past the
      message; until then an unanswered turn is pending (an `info` finding, no points).
      With history, a turn still pending when a night's data ends is judged by the next
      night with its own export, and counted on that night (carry.py).
    - `topic` with `topic_deadline` (seconds): a turn whose first message is inside
      `window` and whose buyer text (any message of the turn) mentions a topic phrase has
      no reply within `topic_deadline` (PDD: quality complaints in 3 minutes). Pending
      like `max_wait` while the data does not reach the deadline.
    `yield_to` names other long-no-reply rules of the ruleset (PDD-N1 names PDD-Q3): a turn
    that one of them counts as an occurrence in this run is left to it, so the platform's
    one deduction per turn is counted once. A rule named there that the run does not
    include (`--select`, `enabled: false`) takes nothing away.
    Per scope and period, the metric counts occurrences (numerator) among the turns any
    clause looks at (denominator); it fails when occurrences exceed `max_count` (default 0).

Why it matters
    Pinduoduo deducts 10 points per long no-reply (not answered the same day, not within
    24 hours, a quality complaint not within 3 minutes) in its 30-day service tally.

Parameters
    window, reply_roles, same_day, max_wait, topic, topic_deadline, yield_to, max_count,
    period, min_count, scopes; `points` per finding.

Example findings
    PDD-N1 error 小美 店/买家A: 长时间不回复: asked 2026-11-22 21:40:05, never answered (no reply the same day)
    PDD-Q3 error 小周 店/买家B: 质量问题3分钟回复: asked 2026-11-22 09:17:30, first reply 2026-11-22 09:20:41
        (after 2026-11-22 09:20:30: no reply within 3 min to 坏了)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl

from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.example import ASKED as EXAMPLE_ASKED, item_line
from cservice_audit.checks.items import in_window
from cservice_audit.checks.occurrences import occurrence_escalations, occurrence_findings, tally
from cservice_audit.i18n import LANGS, t, text_expr, text_exprs
from cservice_audit.params import COMMON, DAYTIME, REPLY_ROLES, Param, ParamError
from cservice_audit.ruleset import Rule
from cservice_audit.text import normalize_phrases, with_normalized

PARAMS = {
    "window": Param("window", "local time of day in which a turn's first message is counted (same_day, topic)", DAYTIME),
    "reply_roles": Param("subset", "whose messages count as replies", ["agent"], REPLY_ROLES),
    "same_day": Param("flag", "late when a turn asked inside the window has no reply before local midnight", True),
    "max_wait": Param("seconds", "late when any turn, at any hour, has no reply within this (none: no such clause)", None),
    "topic": Param("optional_phrases", "turns whose buyer text mentions one of these have topic_deadline", None),
    "topic_deadline": Param("seconds", "seconds a topic turn (asked inside the window) may wait", None),
    "yield_to": Param("optional_phrases", "codes of long_no_reply rules that take a turn both count (counted once)", None),
    **COMMON,
    "max_count": Param("count", "the period fails when occurrences exceed this", 0),
}

LOCAL = "%Y-%m-%d %H:%M:%S"


def validate(params: dict) -> None:
    if (params["topic"] is None) != (params["topic_deadline"] is None):
        raise ParamError("param.topic_pair")
    if not params["same_day"] and params["max_wait"] is None and params["topic"] is None:
        raise ParamError("param.no_clause")


def validate_in_ruleset(rule: Rule, rules: tuple[Rule, ...]) -> None:
    """`yield_to` names other long_no_reply rules. A code the ruleset lacks is allowed: a
    user's `enabled: false` drops the rule, and then it takes nothing away."""
    by_code = {r.code: r for r in rules}
    for code in rule.params["yield_to"] or ():
        other = by_code.get(code)
        if code == rule.code or (other is not None and other.check != "long_no_reply"):
            raise ParamError("param.yield_to", code=repr(code))


def _clause(lang: str) -> str:
    """The column naming the broken clause in `lang` ("clause" in English)."""
    return "clause" if lang == "en" else f"clause_{lang}"


def _span(seconds: float, lang: str = "en") -> str:
    """86400 -> 24 h, 180 -> 3 min, 90 -> 90 s: deadlines as a supervisor reads them."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return t("span.hours", lang, n=f"{seconds / 3600:g}")
    if seconds >= 60 and seconds % 60 == 0:
        return t("span.minutes", lang, n=f"{seconds / 60:g}")
    return t("span.seconds", lang, n=f"{seconds:g}")


def example(rule: Rule, lang: str) -> list[str]:
    """One turn per clause of the rule, late by it (explain): never answered the same day, a
    reply after `max_wait`, a topic turn answered after `topic_deadline`."""
    params, lines = rule.params, []
    if params["same_day"]:
        asked = EXAMPLE_ASKED.replace(hour=21, minute=40, second=5)
        lines.append(item_line(rule, lang, t("finding.never_answered", lang, asked=f"{asked:{LOCAL}}", clause=t("finding.same_day", lang)), asked))
    # A max_wait turn asked after the window closes, so that no same-day clause names it first.
    after_window = EXAMPLE_ASKED.replace(hour=0, minute=0, second=0) + timedelta(seconds=min(params["window"].end + 1805, 86399))
    for asked, deadline, clause in (
        (EXAMPLE_ASKED, params["topic_deadline"], params["topic"] and t("finding.within_topic", lang, span=_span(params["topic_deadline"] or 0, lang), topic=params["topic"][0])),
        (after_window, params["max_wait"], params["max_wait"] and t("finding.within", lang, span=_span(params["max_wait"], lang))),
    ):
        if clause:
            due = asked + timedelta(seconds=deadline)
            what = t("finding.late_reply", lang, asked=f"{asked:{LOCAL}}", reply=f"{due + timedelta(seconds=11):{LOCAL}}", deadline=f"{due:{LOCAL}}", clause=clause)
            lines.append(item_line(rule, lang, what, asked))
    return lines


def _judged(reply_ts: pl.Expr, deadline: pl.Expr, data_end: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(late, pending) for a deadline that the data may not reach yet: a reply after the
    deadline, or none while the data reaches it, is late; none before then is pending."""
    late = pl.when(reply_ts.is_not_null()).then(reply_ts > deadline).otherwise(data_end >= deadline)
    return late, reply_ts.is_null() & ~late


def judged_turns(rule: Rule, context: Context) -> pl.LazyFrame:
    """Turns any clause looks at, one row per turn (its first message), with `late` (an
    occurrence of this rule), `pending` (cannot be judged yet), `deadline` (the earliest
    deadline missed, or the one awaited), `clause` and `topic_match`."""
    judged = context.shared(("long_no_reply", rule.code), lambda: _own_verdicts(rule, context))
    yielded = _yielded(rule, context)
    if yielded is not None:
        taken = yielded.select("_conv", "turn", pl.lit(True).alias("_taken"))
        judged = judged.join(taken, on=["_conv", "turn"], how="left", maintain_order="left").with_columns(
            (pl.col("late") & pl.col("_taken").is_null()).alias("late"),
            (pl.col("pending") & pl.col("_taken").is_null()).alias("pending"),
        ).drop("_taken")
    return judged


def _own_verdicts(rule: Rule, context: Context) -> pl.LazyFrame:
    """The rule's verdicts by its own clauses, before any yielding."""
    params = rule.params
    waits = context.waits(params["reply_roles"])
    windowed = in_window(params["window"])
    if params["topic"]:
        # Any message of the turn may carry the topic word, even one sent after the window
        # closed or after the day ended: the window decides by the turn's first message.
        found = pl.col("_norm").fill_null("").str.extract_many(normalize_phrases(params["topic"])).list.first()
        # The evidence is the message that names it (东西坏了怎么办), not the turn's greeting
        # (在吗 beside match 坏了 read as the tool matching 坏了 in 在吗).
        waits = with_normalized(waits, "text", "_norm").with_columns(
            found.drop_nulls().first().over("_conv", "turn").alias("topic_match"),
            pl.col("text").filter(found.is_not_null()).first().over("_conv", "turn").alias("topic_text"),
        )
    else:
        waits = waits.with_columns(
            pl.lit(None, dtype=pl.String).alias("topic_match"), pl.lit(None, dtype=pl.String).alias("topic_text")
        )
    turns = waits.filter(pl.col("turn_start") & context.judged_days())
    if context.open_turns is not None:
        # Judging what an earlier night left pending: those turns of this rule, nothing else.
        mine = context.open_turns.filter(pl.col("rule") == rule.code).select("shop", "conversation", "ts").lazy()
        turns = turns.join(mine, on=["shop", "conversation", "ts"], how="semi")

    reply = pl.col("reply_ts")
    none = pl.lit(False)
    looked_at = none
    # (name in each language, deadline, late, pending)
    clauses: list[tuple[dict[str, pl.Expr], pl.Expr, pl.Expr, pl.Expr]] = []
    if params["same_day"]:
        midnight = pl.col("day").dt.offset_by("1d").cast(pl.Datetime("ms")).dt.replace_time_zone(context.timezone)
        # The day is over once the shop's data or the run's clock passes its midnight; before
        # that (today's export at 15:00, or at 23:30) an unanswered turn may still be answered.
        running = (pl.col("_data_end") < midnight) & (_clock(context) < midnight)
        applies = windowed
        unanswered = reply.is_null()
        late = applies & pl.when(unanswered).then(~running).otherwise(reply >= midnight)
        clauses.append((text_exprs("finding.same_day"), midnight, late, applies & unanswered & running))
        looked_at |= applies
    if params["topic"]:
        deadline = pl.col("ts") + timedelta(seconds=params["topic_deadline"])
        applies = windowed & pl.col("topic_match").is_not_null()
        late, pending = _judged(reply, deadline, pl.col("_data_end"))
        name = {
            lang: text_expr("finding.within_topic", lang, span=_span(params["topic_deadline"], lang), topic=pl.col("topic_match"))
            for lang in LANGS
        }
        clauses.append((name, deadline, applies & late, applies & pending))
        looked_at |= applies
    if params["max_wait"] is not None:
        deadline = pl.col("ts") + timedelta(seconds=params["max_wait"])
        late, pending = _judged(reply, deadline, pl.col("_data_end"))
        name = {lang: pl.lit(t("finding.within", lang, span=_span(params["max_wait"], lang))) for lang in LANGS}
        clauses.append((name, deadline, late, pending))
        looked_at = pl.lit(True)

    # The earliest missed deadline names the clause; pending only when no clause is broken.
    any_late = pl.any_horizontal([late for _, _, late, _ in clauses])
    any_pending = pl.any_horizontal([pending for _, _, _, pending in clauses]) & ~any_late
    missed = pl.min_horizontal([pl.when(late).then(deadline) for _, deadline, late, _ in clauses])
    awaited = pl.min_horizontal([pl.when(pending).then(deadline) for _, deadline, _, pending in clauses])
    clause = {lang: pl.lit(None, dtype=pl.String) for lang in LANGS}
    for name, deadline, late, pending in reversed(clauses):
        chosen = pl.when(any_late).then(late & (deadline == missed)).otherwise(pending & (deadline == awaited))
        clause = {lang: pl.when(chosen).then(name[lang]).otherwise(clause[lang]) for lang in LANGS}
    return (
        _with_data_end(turns, context)
        .filter(looked_at)
        .with_columns(
            any_late.fill_null(False).alias("late"),
            any_pending.fill_null(False).alias("pending"),
            pl.when(any_late).then(missed).otherwise(awaited).alias("deadline"),
            *(clause[lang].alias(_clause(lang)) for lang in LANGS),
        )
        .drop("_data_end")
    )


def _with_data_end(turns: pl.LazyFrame, context: Context) -> pl.LazyFrame:
    """`turns` with `_data_end`, the last timestamp of its shop's data (null: unknown, and
    then every deadline counts as not reached)."""
    if context.data_ends is None:
        return turns.with_columns(pl.lit(None, dtype=pl.Datetime("ms", context.timezone)).alias("_data_end"))
    ends = context.data_ends.lazy().select("shop", pl.col("_data_end").dt.convert_time_zone(context.timezone))
    return turns.join(ends, on="shop", how="left", maintain_order="left")


def _clock(context: Context) -> pl.Expr:
    """When the run happens, in the ruleset's zone; without a clock, after every day."""
    if context.clock is None:
        return pl.lit(datetime.max.replace(year=9999), dtype=pl.Datetime("ms")).dt.replace_time_zone(context.timezone)
    return pl.lit(context.clock.astimezone(timezone.utc), dtype=pl.Datetime("ms", "UTC")).dt.convert_time_zone(context.timezone)


def _yielded(rule: Rule, context: Context) -> pl.LazyFrame | None:
    """The turns that the rules named in `yield_to`, where this run includes them, count."""
    running = {r.code: r for r in context.rules}
    others = [running[c] for c in rule.params["yield_to"] or () if c in running]
    frames = []
    for other in others:
        if other.params["reply_roles"] != rule.params["reply_roles"]:
            continue  # turns of another reply-role set are other turns; nothing to share
        own = context.shared(("long_no_reply", other.code), lambda other=other: _own_verdicts(other, context))
        frames.append(own.filter(pl.col("late")).select("_conv", "turn"))
    if not frames:
        return None
    return pl.concat(frames).unique()


def run(rule: Rule, context: Context) -> CheckOutput:
    turns = judged_turns(rule, context)
    metrics, days = tally(context, rule, turns.with_columns(pl.col("late").alias("hit")))

    reported = turns.filter(pl.col("late") | pl.col("pending"))
    ts = pl.col("ts").dt.strftime(LOCAL)
    deadline = pl.col("deadline").dt.strftime(LOCAL)
    reply = pl.col("reply_ts").dt.strftime(LOCAL)
    what = {
        lang: pl.when(pl.col("pending"))
        .then(text_expr("finding.pending", lang, asked=ts, deadline=deadline, clause=pl.col(_clause(lang))))
        .when(pl.col("reply_ts").is_null())
        .then(text_expr("finding.never_answered", lang, asked=ts, clause=pl.col(_clause(lang))))
        .otherwise(text_expr("finding.late_reply", lang, asked=ts, reply=reply, deadline=deadline, clause=pl.col(_clause(lang))))
        for lang in LANGS
    }
    findings = occurrence_findings(
        reported, rule, what, pl.coalesce("topic_text", "text").fill_null(""), match=pl.col("topic_match"), pending=pl.col("pending")
    )
    findings = pl.concat([findings, occurrence_escalations(metrics, rule, context)], how="diagonal_relaxed")
    return CheckOutput(metrics, findings, days)
