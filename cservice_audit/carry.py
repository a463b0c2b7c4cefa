"""Turns a night left pending, judged by the next night (long no-reply, spec §5).

Why: the nightly run audits one day's export. A question asked at 23:30 and not answered
when the export ends is pending under the 24-hour clause: its deadline is tomorrow at 23:30.
Tomorrow's export does not hold the question, and the history keeps day sums, not turns, so
without this the nightly flow never judged it, and the platform's −10 never showed.

How:
- `store_open`: a run with history stores, beside each shop's last judged day, the whole
  conversations that hold a turn still pending at the end of its data (history.OPEN_FILE),
  with `open_rules` naming the rules that wait on each such turn's first message.
- `judge`: the next run whose first judged day for that shop is the day after reads them,
  adds those conversations' continuation from its own input (a reply after midnight), and
  runs the long no-reply rules over them, judging those turns only, against its own end
  of data. A turn late now is an occurrence of that run, counted on its first judged day
  (the night that found it: for a 24-hour deadline, the day the 24 hours ran out); its
  denominator stays with the day it was asked, which already counted it. Still pending, it
  is stored again; answered in time, it is gone.
- Only the day right before the run's first day is read: a night missed in between may have
  held the reply (catching that night up judges them). Platforms whose conversations are
  cut at silences (`session_gap`) are not carried: a conversation's name depends on where
  the export starts, so tomorrow's part of it could not be found.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from cservice_audit.checks.context import Context
from cservice_audit.history import OPEN_FILE, HistoryError, HistoryStore
from cservice_audit.i18n import Term
from cservice_audit.metrics.rollup import DAY_SCHEMA
from cservice_audit.partition import PartitionResult, audit_partition
from cservice_audit.ruleset import Rule, Ruleset
from cservice_audit.sanitize import one_line
from cservice_audit.schema import FINDING_SCHEMA

OPEN_RULES = "open_rules"  # on a pending turn's first message: the waiting rules' codes, comma-separated
# Two rows are the same message when these agree (the carried copy and the input's own).
SAME_MESSAGE = ["shop", "conversation", "ts", "role", "buyer", "agent", "text"]


@dataclass
class Carried:
    result: PartitionResult | None  # the carried turns' findings and day rows, dated on the judging day
    events: pl.DataFrame | None  # the carried conversations with their continuation (stored again if still open)
    notes: list[Term]  # what was judged, and turns no night can judge yet (a night missed)
    turns: pl.DataFrame | None = None  # (shop, conversation, ts, _on) of the turns judged, `_on` the day counted


def _stored_columns(events: pl.LazyFrame) -> dict[str, pl.DataType]:
    """The event table's own columns: not the input order or a spilled run's folder keys."""
    return {name: dtype for name, dtype in events.collect_schema().items() if not name.startswith("_") and name != "chunk"}


def waiting_rules(ruleset: Ruleset) -> list[Rule]:
    """The rules whose turns can be pending at the end of a night."""
    if ruleset.session_gap is not None:
        return []
    return [rule for rule in ruleset.rules if rule.check == "long_no_reply"]


def pending_turns(findings: pl.DataFrame, ruleset: Ruleset, timezone: str) -> pl.DataFrame:
    """(rule, shop, conversation, ts) of the long no-reply findings that wait for more data
    (status `pending`, checks.occurrences)."""
    frames = [pl.DataFrame(schema={"rule": pl.String, "shop": pl.String, "conversation": pl.String, "ts": pl.Datetime("ms", timezone)})]
    for rule in waiting_rules(ruleset):
        pending = (pl.col("code") == rule.code) & (pl.col("status") == "pending")
        frames.append(
            findings.filter(pending & pl.col("conversation").is_not_null()).select(
                pl.lit(rule.code).alias("rule"), "shop", "conversation", pl.col("ts").dt.convert_time_zone(timezone)
            )
        )
    return pl.concat(frames, how="vertical").unique(maintain_order=True)


def judge(store: HistoryStore, covered: pl.DataFrame, events: pl.LazyFrame, ruleset: Ruleset, template: Context, engine: str) -> Carried | None:
    """The turns the day before each shop's first judged day left open, judged with this
    run's input; None when there are none."""
    rules = waiting_rules(ruleset)
    if not rules:
        return None
    # The night read is the one before the run's first day (--date/--since), else before the
    # shop's; the turns count on the shop's own first judged day, which the run stores (a shop
    # without a chat on --since's day has no row there: counted there, they never reached the
    # history).
    firsts = covered.group_by("shop").agg(pl.col("day").min().alias("_first"))
    days = set(covered.select("shop", "day").iter_rows())
    ran = {rule.code for rule in rules}
    stored, first_of, night_of, notes = [], {}, {}, []
    for shop, first in firsts.sort("shop").iter_rows():
        before = (template.first_day or first) - timedelta(days=1)
        if (shop, before) in days:
            continue  # the input holds that day: its turns are judged in the run itself
        frame = store.read_open(shop, before)
        if frame is None:
            notes.extend(_missed_night(store, shop, before + timedelta(days=1), ran))
        else:
            stored.append(_conformed(frame, events, shop, store.day_folder(shop, before) / OPEN_FILE))
            first_of[shop], night_of[shop] = first, before
    if not stored:
        return Carried(None, None, notes) if notes else None
    carried = pl.concat(stored, how="vertical")
    open_turns = _turns_of(carried).filter(pl.col("rule").is_in(list(ran)))
    if open_turns.is_empty():
        return Carried(None, None, notes) if notes else None
    keys = carried.select("shop", "conversation").unique()
    columns = list(_stored_columns(events))
    continuation = events.join(keys.lazy(), on=["shop", "conversation"], how="semi").select(columns).collect(engine=engine)
    together = (
        pl.concat([carried.select(columns), continuation], how="vertical")
        .unique(subset=SAME_MESSAGE, keep="first", maintain_order=True)
        .with_row_index("_order")
        .with_columns(pl.col("_order").cast(pl.UInt32))
    )
    # Judged as of the last day they were asked on, their own turns only, against this run's
    # end of data and clock; nothing stored is read (the periods are this run's business).
    sub = dataclasses.replace(
        template,
        first_day=None,
        as_of=open_turns.get_column("day").max(),
        history=None,
        input_days=None,
        first_reported_day=None,
        open_turns=open_turns.drop("day"),
    )
    cells = open_turns.select("shop", "day").unique()
    judged = audit_partition(together, cells, rules, sub)
    on = pl.DataFrame({"shop": list(first_of), "_on": list(first_of.values())}, schema={"shop": pl.String, "_on": pl.Date})
    findings = (
        judged.findings.join(on, on="shop", how="left")
        .with_columns(pl.col("_on").alias("day"), pl.col("_on").alias("period_start"))
        .drop("_on")
        .select(list(FINDING_SCHEMA))
    )
    late = findings.filter((pl.col("severity") != "info") | (pl.col("points") != 0.0))
    result = PartitionResult(days=_late_rows(late, rules), waits=judged.waits.clear(), findings=findings, items=[])
    for shop, first in first_of.items():
        # Counted by question: one late by one rule and still pending by another is late.
        def questions(frame: pl.DataFrame) -> set[tuple]:
            return set(frame.filter(pl.col("shop") == shop).select("conversation", "ts").iter_rows())

        asked, was_late = questions(open_turns), questions(late)
        notes.append(Term(
            "note.carried", shop=one_line(shop), night=night_of[shop].isoformat(), day=first.isoformat(),
            n=len(asked), late=len(was_late), pending=len(questions(findings) - was_late),
        ))
    judged_turns = open_turns.select("shop", "conversation", "ts").unique().join(on, on="shop")
    return Carried(result, together.drop("_order"), notes, judged_turns)


def turn_keys(turns: pl.DataFrame) -> list[str]:
    """Each turn (conversation, ts) as one string, as a day's metadata records those it judged."""
    return sorted({f"{conversation}\x1f{ts.isoformat()}" for conversation, ts in turns.select("conversation", "ts").iter_rows()})


def judged_keys(carried: "Carried | None") -> dict[tuple[str, object], str]:
    """(shop, judging day) -> the JSON list of the held-over turns this run judged, for the
    day's metadata (history.CARRIED_KEY)."""
    if carried is None or carried.turns is None:
        return {}
    found = {}
    for (shop, day), turns in carried.turns.partition_by("shop", "_on", as_dict=True).items():
        found[(shop, day)] = json.dumps(turn_keys(turns), ensure_ascii=False)
    return found


def _missed_night(store: HistoryStore, shop: str, first, ran: set[str]) -> list[Term]:
    """A note when the shop's last stored day before `first` is older than the day before and
    left turns waiting: the nights between did not run, and only catching them up judges
    those turns (this run's data cannot tell whether those nights answered them)."""
    earlier = [day for day in store.days_of(shop) if day < first]
    if not earlier or earlier[-1] >= first - timedelta(days=1):
        return []
    last = earlier[-1]
    try:
        frame = store.read_open(shop, last)
    except HistoryError:
        return []  # said when that night is caught up and reads it
    try:
        waiting = _turns_of(frame).filter(pl.col("rule").is_in(list(ran))) if frame is not None else None
    except pl.exceptions.PolarsError:
        return []  # not a file of ours: said when that night is caught up and reads it
    if waiting is None:
        return []
    if waiting.is_empty():
        return []
    missing, until = last + timedelta(days=1), first - timedelta(days=1)
    span = missing.isoformat() if missing == until else f"{missing.isoformat()}..{until.isoformat()}"
    n = waiting.select("shop", "conversation", "ts").unique().height
    return [Term("note.carried_missed", shop=one_line(shop), n=n, day=last.isoformat(), missing=span)]


def _conformed(frame: pl.DataFrame, events: pl.LazyFrame, shop: str, path) -> pl.DataFrame:
    """A stored open file in the event table's columns; one written by something else stops
    the run with its name (read as events, it would judge what no export said)."""
    wanted = _stored_columns(events)
    have = dict(frame.schema)
    if have.get(OPEN_RULES) != pl.String or any(name not in have for name in wanted):
        raise HistoryError("error.history_foreign", path=path)
    try:
        conformed = frame.select(*(pl.col(name).cast(dtype) for name, dtype in wanted.items()), OPEN_RULES)
    except pl.exceptions.PolarsError:
        raise HistoryError("error.history_foreign", path=path) from None
    if (conformed.get_column("shop") != shop).any():  # another shop's file put here: as rows.parquet
        raise HistoryError("error.history_misplaced", path=path)
    return conformed


def _late_rows(late: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """Day rows adding each late carried turn to its rule's occurrences on the judging day;
    no items: the day it was asked counted it among the turns looked at."""
    frames = [pl.DataFrame(schema=DAY_SCHEMA)]
    for rule in rules:
        mine = late.filter(pl.col("code") == rule.code)
        if mine.is_empty():
            continue
        for scope in rule.params["scopes"]:
            keys = ["shop", "day"] + (["agent"] if scope == "agent" else [])
            counted = mine.group_by(keys, maintain_order=True).agg(pl.len().cast(pl.Float64).alias("numerator"))
            frames.append(
                counted.select(
                    pl.lit(rule.code).alias("rule"),
                    pl.lit(scope).alias("scope"),
                    "shop",
                    pl.col("agent") if scope == "agent" else pl.lit(None, dtype=pl.String).alias("agent"),
                    "day",
                    "numerator",
                    pl.lit(0, dtype=pl.Int64).alias("denominator"),
                    pl.lit(0, dtype=pl.Int64).alias("answered"),
                    pl.lit(None, dtype=pl.Float64).alias("wait_sum"),
                ).cast(DAY_SCHEMA)
            )
    return pl.concat(frames, how="vertical")


def store_open(
    store: HistoryStore,
    covered: pl.DataFrame,
    events: pl.LazyFrame,
    carried: Carried | None,
    findings: pl.DataFrame,
    ruleset: Ruleset,
    engine: str,
) -> list[Term]:
    """Store, beside each shop's last judged day, the conversations holding a turn still
    pending (this run's and those it carried). This run judged the turns of its other days
    again, so their files go, but for turns waiting on a rule it did not run (--select):
    those stay where they were. Returns a note per shop whose turns no later night will judge:
    the next day is stored, and the run that stored it did not read them (a night caught up
    after the next one ran)."""
    ran = {rule.code for rule in waiting_rules(ruleset)}
    if not ran:
        return []  # no rule of this run waits: what is stored is none of its business
    column_types = _stored_columns(events)
    columns = list(column_types)
    pending = pending_turns(findings, ruleset, ruleset.timezone)
    # A conversation is stored as this run saw it where its pending turn is: its own input's
    # events for a turn of the input (a buyer's 00:10 message after last night's unanswered
    # 23:30 one starts a turn here, and must start one when the next night reads it), the
    # carried conversation for a held-over turn still pending.
    conversation = ["shop", "conversation"]
    held = carried.turns.select("shop", "conversation", "ts") if carried is not None and carried.turns is not None else pending.clear().drop("rule")
    still_held = pending.join(held, on=["shop", "conversation", "ts"], how="semi")
    sources = [events.join(pending.join(still_held, on=conversation, how="anti").select(conversation).unique().lazy(), on=conversation, how="semi").select(columns)]
    if carried is not None and carried.events is not None:
        sources.append(carried.events.lazy().select(columns).join(still_held.select(conversation).unique().lazy(), on=conversation, how="semi"))
    mine = pl.concat(sources, how="vertical").collect(engine=engine)
    late = findings.filter(pl.col("code").is_in(list(ran)) & pl.col("conversation").is_not_null() & pl.col("ts").is_not_null()).with_columns(
        pl.col("ts").dt.convert_time_zone(ruleset.timezone)
    ).join(pending.select("shop", "conversation", "ts"), on=["shop", "conversation", "ts"], how="anti")
    notes = []
    for shop, days in covered.group_by("shop").agg(pl.col("day").sort()).sort("shop").iter_rows():
        following = days[-1] + timedelta(days=1)
        read = store.carried_turns(shop, following)
        if read is not None:
            unread = set(turn_keys(pending.filter(pl.col("shop") == shop))) - read
            if unread:
                notes.append(Term("note.carried_stuck", shop=one_line(shop), n=len(unread), day=days[-1].isoformat(), next=following.isoformat()))
            # Judged here and by that night too (a day audited again with the next day's
            # export after the next night ran): counted on both days until that night runs again.
            twice = set(turn_keys(late.filter(pl.col("shop") == shop))) & read
            if twice:
                notes.append(Term("note.carried_twice", shop=one_line(shop), n=len(twice), day=days[-1].isoformat(), next=following.isoformat()))
        for day in days:
            others = _waiting_on_others(store, shop, day, ran, column_types)
            frames, turns = ([others[0]], [others[1]]) if others is not None else ([], [])
            if day == days[-1]:
                frames.append(mine.filter(pl.col("shop") == shop))
                turns.append(pending.filter(pl.col("shop") == shop))
            kept = _open_events([f.lazy() for f in frames], pl.concat(turns, how="vertical"), engine) if frames else None
            store.write_open(shop, day, kept)
    return notes


def _open_events(sources: list[pl.LazyFrame], pending: pl.DataFrame, engine: str) -> pl.DataFrame:
    """The events of the conversations holding `pending` turns (rule, shop, conversation,
    ts), once each, with `open_rules` on each pending turn's buyer messages: what an open
    file holds."""
    keys = pending.select("shop", "conversation").unique().lazy()
    marks = pending.group_by("shop", "conversation", "ts").agg(pl.col("rule").unique().sort().str.join(",").alias(OPEN_RULES))
    return (
        pl.concat(sources, how="vertical")
        .join(keys, on=["shop", "conversation"], how="semi")
        .unique(subset=SAME_MESSAGE, keep="first", maintain_order=True)
        .join(marks.lazy(), on=["shop", "conversation", "ts"], how="left", maintain_order="left")
        .with_columns(pl.when(pl.col("role") == "buyer").then(pl.col(OPEN_RULES)).alias(OPEN_RULES))
        .sort("shop", "conversation", "ts", maintain_order=True)
        .collect(engine=engine)
    )


def _turns_of(stored: pl.DataFrame) -> pl.DataFrame:
    """(rule, shop, conversation, ts, day) of the turns an open file marks."""
    return (
        stored.filter(pl.col(OPEN_RULES).is_not_null())
        .select(pl.col(OPEN_RULES).str.split(",").alias("rule"), "shop", "conversation", "ts", "day")
        .explode("rule")
        .unique(maintain_order=True)
    )


def _waiting_on_others(store: HistoryStore, shop: str, day, ran: set[str], columns: dict) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """(events, turns) of the stored open file of (shop, day) whose turns wait on rules this
    run did not judge, those rules' turns only; None if there are none. A file this run cannot
    read is replaced (as auditing a day again repairs its rows)."""
    try:
        stored = store.read_open(shop, day)
    except HistoryError:
        return None
    if stored is None or stored.schema.get(OPEN_RULES) != pl.String or any(name not in stored.schema for name in columns):
        return None
    turns = _turns_of(stored).filter(~pl.col("rule").is_in(list(ran)))
    if turns.is_empty():
        return None
    return stored.select(*(pl.col(name).cast(dtype) for name, dtype in columns.items())), turns.drop("day")
