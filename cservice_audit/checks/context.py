"""What every check reads: the normalized events and the audit's choices. Nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from cservice_audit.metrics.waits import conversation_stream, waits_from_stream
from cservice_audit.phrase_engine import ScoreCache
from cservice_audit.ruleset import Rule
from cservice_audit.text import normalize_phrases
from cservice_audit.textnorm import normalize_distinct


@dataclass
class Context:
    events: pl.LazyFrame  # the canonical event table (spec §1), ts in the ruleset's zone
    rejects: pl.DataFrame  # rows that could not be normalized, with _source, line, problem
    timezone: str
    as_of: date  # the last day judged (spec §8)
    first_day: date | None  # --since / --date: items before this day are not judged
    # Per shop (`shop`, `_data_end`): its last timestamp, which a pending verdict waits for.
    # Per shop, not the whole input's: two shops' exports cut at different hours must not
    # judge one shop by how far the other's data reaches.
    data_ends: pl.DataFrame | None
    exempt_dates: tuple[date, ...] = ()
    # Day rows stored by earlier runs (metrics/rollup.DAY_SCHEMA), or None without history.
    history: pl.LazyFrame | None = None
    # (shop, day) pairs the current input covers: their stored rows are replaced, not added.
    input_days: pl.LazyFrame | None = None
    # Periods ending before this day come from history only and are not reported.
    first_reported_day: date | None = None
    # The rules this run includes (after --select/--ignore): rules that share occurrences
    # (long no-reply `yield_to`) look at each other through it.
    rules: tuple[Rule, ...] = ()
    # When the run happens (the report's generated_at, time-zone aware): a day whose local
    # midnight is after it is still running (long no-reply's same-day clause). None: every
    # day is over.
    clock: datetime | None = None
    # Long no-reply judges only these turns when set (rule, shop, conversation, ts of the
    # turn's first message): the turns an earlier night left pending (carry.py).
    open_turns: pl.DataFrame | None = None
    # The shared frames below are materialized (collected once) rather than cached lazily:
    # a lazy plan is re-derived by every rule that reads it, and polars' cache nodes panicked
    # when collected on their own.
    _stream: pl.DataFrame | None = None
    _texts: dict[tuple[str, ...], pl.LazyFrame] = field(default_factory=dict)
    _waits: dict[tuple[str, ...], pl.LazyFrame] = field(default_factory=dict)
    _topics: dict[tuple[tuple[str, ...], tuple[str, ...]], pl.LazyFrame] = field(default_factory=dict)
    # Every distinct text normalized so far (text -> norm): each is normalized once per audit
    # (per partition, see partition.py), whichever rule or role asks first.
    _norms: pl.DataFrame | None = None
    _shared: dict[tuple, pl.LazyFrame] = field(default_factory=dict)
    # Model scores already computed in this audit (phrase_engine.ScoreCache): shared by every
    # partition, unlike the frames above (partition._fresh keeps it).
    scores: ScoreCache = field(default_factory=ScoreCache)

    def shared(self, key: tuple, build: Callable[[], pl.LazyFrame]) -> pl.LazyFrame:
        """A frame one check builds and another reuses (a long-no-reply rule's late turns,
        which a rule that yields to it also needs), built once per run (per partition)."""
        if key not in self._shared:
            self._shared[key] = build().cache()
        return self._shared[key]

    def waits(self, reply_roles: tuple[str, ...]) -> pl.LazyFrame:
        """Per-message waits for one set of reply roles, built once and shared.

        Every set is derived from one sorted conversation stream, so the sort runs once.
        """
        if self._stream is None:
            self._stream = conversation_stream(self.events).collect(engine="in-memory")
        if reply_roles not in self._waits:
            self._waits[reply_roles] = waits_from_stream(self._stream.lazy(), reply_roles).collect(engine="in-memory").lazy()
        return self._waits[reply_roles]

    def normalized(self, frame: pl.LazyFrame, column: str, name: str) -> pl.LazyFrame:
        """`frame` with `name`: the normalized form of `column` (spec §7), from the audit's
        shared table of normalized texts (materialized)."""
        frame_df = frame.collect(engine="in-memory") if isinstance(frame, pl.LazyFrame) else frame
        distinct = frame_df.select(pl.col(column).alias("text")).unique()
        if self._norms is not None:
            distinct = distinct.join(self._norms, on="text", how="anti", nulls_equal=True)
        fresh = normalize_distinct(distinct, "text", "norm")
        self._norms = fresh if self._norms is None else pl.concat([self._norms, fresh], how="vertical")
        table = self._norms.rename({"text": column, "norm": name})
        return frame_df.join(table, on=column, how="left", nulls_equal=True, maintain_order="left").lazy()

    def texts(self, roles: tuple[str, ...]) -> pl.LazyFrame:
        """Messages of `roles` on judged days with `norm`, their normalized text (spec §7),
        built once per set of roles and shared by every text rule."""
        if roles not in self._texts:
            messages = self.events.filter(
                pl.col("role").is_in(list(roles)) & pl.col("text").is_not_null() & self.judged_days()
            ).select("shop", "agent", "buyer", "conversation", "ts", "day", "role", "text", "_order")
            self._texts[roles] = self.normalized(messages, "text", "norm")
        return self._texts[roles]

    def topic_waits(self, reply_roles: tuple[str, ...], topic: tuple[str, ...] | list[str]) -> pl.LazyFrame:
        """The waits of turns whose buyer text mentions one of `topic` (normalized as for
        phrase rules): any message of the turn may mention it. Built once per (roles, topic)."""
        key = (tuple(reply_roles), tuple(topic))
        if key not in self._topics:
            waits = self.normalized(self.waits(tuple(reply_roles)), "text", "_norm")
            mentions = pl.col("_norm").fill_null("").str.contains_any(normalize_phrases(list(topic)))
            # Turns are contiguous in the stream: one integer per turn is a cheap window key.
            turn = ((pl.col("_conv") != pl.col("_conv").shift(1)) | (pl.col("turn") != pl.col("turn").shift(1))).fill_null(True).cum_sum()
            marked = waits.with_columns(mentions.alias("_mentions"), turn.alias("_turn_key"))
            self._topics[key] = (
                marked.filter(pl.col("_mentions").any().over("_turn_key")).drop("_mentions", "_turn_key").collect(engine="in-memory").lazy()
            )
        return self._topics[key]

    def with_history(self, current: pl.LazyFrame, rule: str) -> pl.LazyFrame:
        """This run's day rows of one rule plus the stored ones for days the input lacks."""
        if self.history is None:
            return current
        # Judging as of a day ignores what the history holds after it.
        stored = self.history.filter((pl.col("rule") == rule) & (pl.col("day") <= self.as_of))
        if self.input_days is not None:
            stored = stored.join(self.input_days, on=["shop", "day"], how="anti")
        return pl.concat([current, stored.select(current.collect_schema().names())], how="vertical")

    def reported_periods(self) -> pl.Expr:
        """Periods this run reports: those not entirely before the input's first day."""
        if self.first_reported_day is None:
            return pl.lit(True)
        return pl.col("period_end") >= self.first_reported_day

    def judged_days(self) -> pl.Expr:
        """Items counted: inside the selected days and not on an exempt date."""
        day = pl.col("day")
        inside = day <= self.as_of
        if self.first_day is not None:
            inside &= day >= self.first_day
        if self.exempt_dates:
            inside &= ~day.is_in(list(self.exempt_dates))
        return inside


@dataclass
class CheckOutput:
    metrics: pl.LazyFrame  # every period, stored history included (audit keeps the reported ones)
    findings: pl.LazyFrame
    days: pl.LazyFrame | None = None  # this run's day rows, for the history store
    items: pl.LazyFrame | None = None  # late and unanswered items (schema.ITEM_SCHEMA), for the drill-down
