"""What an at-risk period still needs to pass (spec/metrics.md §8), exactly.

For every metric row whose status is `at_risk` (an incomplete period, past the threshold so
far), with n = denominator (items so far), k = numerator (good items so far; for average-wait
rules S = the total wait so far):

    E = days elapsed  = as_of − period_start + 1, less exempt dates among them
    C = days with data = the shop's days with chats in the period up to the as-of day (this
        run's input and the stored history, less exempt dates), whatever rules the run
        selected; a caller without them (metric rows only) gets the most `coverage` among
        the rows of the same shop and period, the days one rule saw
    V = days seen = min(C, E), or E when C is unknown (null or 0)
    D = days remaining = period_end − as_of,       less exempt dates among them
    R = expected_remaining = n × D / V rounded half up = ⌊(2·n·D + V) / (2·V)⌋   (0 when V = 0)

The remaining days bring R items, at the volume seen so far: n items over the V days the data
covers, not over the E calendar days, so a period whose data starts mid-period (a first run
without history, a shop onboarded on the 23rd) is not taken for a quiet one. The shop's days,
not the row's own: an agent without items on a day the shop has data had a quiet day, which
is part of that agent's volume. Then, with the rule's limit
written as the exact fraction p/q of its decimal (0.8 → 4/5), in integer arithmetic:

- rate rules that fail below p/q (reply rates, review good rate): the period passes when
  (k + x) / (n + R) ≥ p/q, so the remaining items need
      needed_good = x = max(0, ⌈(p·(n + R) − q·k) / q⌉)   on time (or satisfied)
- rules that fail above p/q (share of bad reviews blaming attitude): with y of the remaining
  items blaming attitude, it passes when (k + y) / (n + R) ≤ p/q, so at most
      y_max = ⌊(p·(n + R) − q·k) / q⌋   may, and   needed_good = max(0, R − y_max)
  must not;
- in both: needed_rate = needed_good / R (null when R = 0) and can_pass = needed_good ≤ R:
  false means the period cannot pass any more, even if every remaining item is good;
- average-wait rules (fail when S / n > L seconds): the remaining R items must keep a mean of
      needed_mean_wait = (L·(n + R) − S) / R   (null when R = 0);   can_pass = it is ≥ 0;
- occurrence rules (fail above a count): occurrences never go away: can_pass = k ≤ limit,
  which is false for every at-risk row; the other columns stay null.

Every other status leaves the five columns null. `min_count` is not modelled: a period that
ends with fewer items than it is `insufficient`, which this does not predict.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import polars as pl

from cservice_audit.ruleset import Ruleset

NEED_COLUMNS = ("expected_remaining", "needed_good", "needed_rate", "needed_mean_wait", "can_pass")
GOAL_SCHEMA = {"rule": pl.String, "_kind": pl.String, "_p": pl.Int64, "_q": pl.Int64, "_limit": pl.Float64}


def goals(ruleset: Ruleset) -> pl.DataFrame:
    """One row per rule with a status: its kind of limit, as p/q and as a float."""
    rows = []
    for rule in ruleset.rules:
        params = rule.params
        if rule.check == "reply_rate" or (rule.check == "review_rate" and params.get("measure") == "good_rate"):
            kind, limit = "min_rate", params["min_rate"]
        elif rule.check == "review_rate":
            kind, limit = "max_rate", params["max_rate"]
        elif rule.check == "average_wait":
            kind, limit = "max_mean", params["max_seconds"]
        elif "max_count" in params:
            kind, limit = "max_count", params["max_count"]
        else:
            continue
        # The decimal as written in the ruleset (0.8, not 0.8000000000000000444), as p/q.
        exact = Fraction(str(limit))
        rows.append((rule.code, kind, exact.numerator, exact.denominator, float(limit)))
    return pl.DataFrame(rows, schema=GOAL_SCHEMA, orient="row")


def _days_between(first: pl.Expr, last: pl.Expr, exempt: tuple[date, ...]) -> pl.Expr:
    """Calendar days in [first, last], less the exempt dates among them."""
    days = (last - first).dt.total_days() + 1
    if not exempt:
        return days
    return days - pl.sum_horizontal([((pl.lit(d) >= first) & (pl.lit(d) <= last)).cast(pl.Int64) for d in exempt])


PERIOD_KEYS = ["shop", "period_start", "period_end"]


def _days_covered(metrics: pl.DataFrame, shop_days: pl.DataFrame, as_of: date, exempt: tuple[date, ...]) -> pl.DataFrame:
    """Per shop and period of `metrics`: `_covered`, its days in `shop_days` up to `as_of`."""
    day = pl.col("day")
    inside = (day >= pl.col("period_start")) & (day <= pl.col("period_end")) & (day <= as_of) & ~day.is_in(list(exempt))
    return (
        metrics.select(PERIOD_KEYS).unique()
        .join(shop_days.select("shop", "day").unique(), on="shop")
        .filter(inside)
        .group_by(PERIOD_KEYS)
        .agg(pl.len().cast(pl.Int64).alias("_covered"))
    )  # fmt: skip


def needs(
    metrics: pl.DataFrame, goal_table: pl.DataFrame, as_of: date, exempt: tuple[date, ...] = (), shop_days: pl.DataFrame | None = None
) -> pl.DataFrame:
    """`metrics` (METRIC_SCHEMA) with the five NEED_COLUMNS computed as the module says;
    `shop_days` (shop, day): every day each shop has chats, from the input and the history."""
    if shop_days is None:
        # The days one rule saw: the same, unless no rule that ran sees every day with chats.
        frame, covered = metrics, pl.col("coverage").max().over(PERIOD_KEYS)
    else:
        frame = metrics.join(_days_covered(metrics, shop_days, as_of, exempt), on=PERIOD_KEYS, how="left", maintain_order="left")
        covered = pl.col("_covered")
    n = pl.col("denominator").cast(pl.Int64)
    k = pl.col("numerator").round(0).cast(pl.Int64)  # whole counts for rate rules
    p, q = pl.col("_p"), pl.col("_q")
    elapsed = _days_between(pl.col("period_start"), pl.lit(as_of), exempt)
    seen = pl.when(covered > 0).then(pl.min_horizontal(covered, elapsed)).otherwise(elapsed)
    remaining = _days_between(pl.lit(as_of) + pl.duration(days=1), pl.col("period_end"), exempt)
    expected = pl.when(pl.col("_seen") > 0).then((2 * n * pl.col("_remaining") + pl.col("_seen")) // (2 * pl.col("_seen"))).otherwise(0)
    total = n + pl.col("expected_remaining")
    slack = p * total - q * k  # q × (good items the whole period needs, less those so far)
    kind = pl.col("_kind")
    needed_good = (
        pl.when(kind == "min_rate").then(pl.max_horizontal(-((-slack) // q), pl.lit(0)))  # ⌈slack / q⌉
        .when(kind == "max_rate").then(pl.max_horizontal(pl.col("expected_remaining") - slack // q, pl.lit(0)))
    )  # fmt: skip
    mean_wait = (pl.col("_limit") * total - pl.col("numerator")) / pl.col("expected_remaining")
    at_risk = pl.col("status") == "at_risk"
    rates = kind.is_in(["min_rate", "max_rate"])
    return (
        frame.drop(NEED_COLUMNS)
        .join(goal_table, on="rule", how="left")
        .with_columns(seen.alias("_seen"), remaining.alias("_remaining"))
        .with_columns(pl.when(at_risk & kind.is_in(["min_rate", "max_rate", "max_mean"])).then(expected).alias("expected_remaining"))
        .with_columns(pl.when(at_risk).then(needed_good).alias("needed_good"))
        .with_columns(
            pl.when(at_risk & rates & (pl.col("expected_remaining") > 0))
            .then(pl.col("needed_good") / pl.col("expected_remaining"))
            .alias("needed_rate"),
            pl.when(at_risk & (kind == "max_mean") & (pl.col("expected_remaining") > 0)).then(mean_wait).alias("needed_mean_wait"),
        )
        .with_columns(
            pl.when(~at_risk).then(None)
            .when(rates).then(pl.col("needed_good") <= pl.col("expected_remaining"))
            .when(kind == "max_mean").then(pl.col("needed_mean_wait").fill_null(-1.0) >= 0)
            .when(kind == "max_count").then(pl.col("numerator") <= pl.col("_limit"))
            .alias("can_pass")
        )  # fmt: skip
        .select(metrics.columns)
    )


def with_needs(metrics: pl.DataFrame, ruleset: Ruleset, as_of: date | None, shop_days: pl.DataFrame | None = None) -> pl.DataFrame:
    """The audit's metrics with what each at-risk period still needs (see the module)."""
    if as_of is None or metrics.is_empty():
        return metrics
    return needs(metrics, goals(ruleset), as_of, tuple(ruleset.exempt_dates), shop_days)
