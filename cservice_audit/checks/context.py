"""What every check reads: the normalized events and the audit's choices. Nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from cservice_audit.metrics.waits import conversation_stream, waits_from_stream
from cservice_audit.ruleset import Rule
from cservice_audit.text import with_normalized


@dataclass
class Context:
    events: pl.LazyFrame  # the canonical event table (spec §1), ts in the ruleset's zone
    rejects: pl.DataFrame  # rows that could not be normalized, with _source, line, problem
    timezone: str
    as_of: date  # the last day judged (spec §8)
    first_day: date | None  # --since / --date: items before this day are not judged
    data_end: datetime | None  # the last timestamp in the data (for pending verdicts)
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
    _stream: pl.LazyFrame | None = None
    _texts: dict[tuple[str, ...], pl.LazyFrame] = field(default_factory=dict)
    _waits: dict[tuple[str, ...], pl.LazyFrame] = field(default_factory=dict)
    _shared: dict[tuple, pl.LazyFrame] = field(default_factory=dict)

    def shared(self, key: tuple, build: Callable[[], pl.LazyFrame]) -> pl.LazyFrame:
        """A frame one check builds and another reuses (a long-no-reply rule's late turns,
        which a rule that yields to it also needs), built once per run."""
        if key not in self._shared:
            self._shared[key] = build().cache()
        return self._shared[key]

    def waits(self, reply_roles: tuple[str, ...]) -> pl.LazyFrame:
        """Per-message waits for one set of reply roles, built once and shared.

        Every set is derived from one sorted conversation stream, so the sort runs once.
        """
        if not self._waits:
            self._stream = conversation_stream(self.events).cache()
        if reply_roles not in self._waits:
            self._waits[reply_roles] = waits_from_stream(self._stream, reply_roles).cache()
        return self._waits[reply_roles]

    def texts(self, roles: tuple[str, ...]) -> pl.LazyFrame:
        """Messages of `roles` on judged days with `norm`, their normalized text (spec §7),
        built once per set of roles and shared by every text rule."""
        if roles not in self._texts:
            messages = self.events.filter(
                pl.col("role").is_in(list(roles)) & pl.col("text").is_not_null() & self.judged_days()
            ).select("shop", "agent", "buyer", "conversation", "ts", "day", "role", "text", "_order")
            self._texts[roles] = with_normalized(messages, "text", "norm").cache()
        return self._texts[roles]

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
