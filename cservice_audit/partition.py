"""The audit, partition by partition: one (shop, day) at a time, then the periods.

Why: a month of a big shop (or an outsourcing team's many shops) does not fit in memory as
one frame, and the rules need far less than the whole file at once. Conversations never
cross shops, and everything a rule judges about one day's items (a message's wait, a turn's
topic, a conversation's repeated replies, a buyer-day) depends only on the conversations
that have events that day. So the unit of work is the partition (platform, shop, day):

- `audit_partition` audits one partition: the whole of every conversation of that shop
  with an event on that day (its earlier days are the look-behind, its later days the
  look-ahead: a reply after 24 hours, a turn across midnight), and keeps what is dated on
  that day: the rules' day rows (metrics/rollup.DAY_SCHEMA), their per-item findings
  (long no-reply, phrases, repeated scripts) and the answered waits (WAIT_SCHEMA, value
  counts) from which a period's wait quantiles come.
- `combine` turns all partitions' day rows into period metrics exactly as stored history
  does (a period is the sum of its days, metrics/rollup.py), adds the quantiles and the
  findings judged per period (rates, escalations, unreadable rows).

Several partitions may go through `audit_partition` together (a batch: consecutive days of
one shop, or the days of several small shops): each one's result is the same as alone, and
fewer, larger calls cost less overhead (a thousand small shops are a few batches, not a
thousand). The same function is what a multi-machine run would fan out on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import polars as pl

from cservice_audit import spill
from cservice_audit.checks import CHECKS
from cservice_audit.checks.context import CheckOutput, Context
from cservice_audit.checks.items import reply_items
from cservice_audit.compact import compacted
from cservice_audit.metrics import periods
from cservice_audit.metrics.rollup import DAY_SCHEMA
from cservice_audit.ruleset import Rule, Ruleset
from cservice_audit.schema import FINDING_SCHEMA, IDENTITY, ITEM_SCHEMA, METRIC_SCHEMA, conform

# Answered waits of reply rules, as value counts: a period's quantiles need every wait of
# the period, and counts of equal waits are exact and small (waits repeat to the second).
WAIT_SCHEMA = {
    "rule": pl.String,
    "scope": pl.String,
    "shop": pl.String,
    "agent": pl.String,
    "day": pl.Date,
    "wait": pl.Float64,
    "n": pl.UInt32,
}
QUANTILES = {"wait_p50": 0.5, "wait_p90": 0.9}
WAIT_CHECKS = ("reply_rate", "average_wait")  # the checks whose metrics carry wait quantiles
PERIOD_CHECKS = ("data_quality",)  # checks with nothing per item: they run once, in `combine`
# Checks whose findings are all judged per period (never per item): `audit_partition` does
# not build their findings at all. Any other check's findings with a conversation are per item.
RATE_CHECKS = ("reply_rate", "average_wait", "review_rate")
# Judged rows per batch of partitions handed to `audit_partition` at once (whole days only;
# a day with more is a batch of its own). At 2 M rows (pinduoduo, CPU s / peak GiB), before
# the phrase models: 50,000: 11.8 / 1.04; 100,000: 11.1 / 1.00; 200,000: 10.7 / 1.12;
# 400,000: 10.9 / 1.23; one batch: 12.8 / 2.42. With the models and their score cache
# (issue 13, second pass): 100,000: 28.9 / 1.26; 300,000: 26.1 / 1.27; 1,000,000: 25.1 / 1.92.
# Smaller batches pay per-call overhead, larger ones hold more at once.
BATCH_ROWS = 300_000
# Input rows per hash bucket when a spilled run finds its multi-day conversations (`_spans`):
# 100 M rows in 5 passes, each holding about a fifth of the conversations.
SPAN_BUCKET_ROWS = 20_000_000


@dataclasses.dataclass
class PartitionResult:
    days: pl.DataFrame  # DAY_SCHEMA: every rule's day rows for the partition's days
    waits: pl.DataFrame  # WAIT_SCHEMA
    findings: pl.DataFrame  # FINDING_SCHEMA: per-item findings dated on those days
    items: list[pl.DataFrame | pl.LazyFrame]  # per rule with a drill-down: its late items (ITEM_SCHEMA) dated on those days


def _fresh(template: Context, events: pl.LazyFrame, **changes) -> Context:
    """A context over `events` with the template's choices and empty shared frames."""
    return dataclasses.replace(
        template, events=events, _stream=None, _texts={}, _waits={}, _topics={}, _norms=None, _shared={}, **changes
    )


def audit_partition(events: pl.DataFrame, cells: pl.DataFrame, rules: list[Rule], template: Context) -> PartitionResult:
    """Audit the partitions `cells` (shop, day): one, or a batch of several.

    `events`: the canonical events (conversations assigned) of every conversation with an
    event on one of the cells' days in its shop, whole. `template` carries the audit's
    choices (as-of day, judged days, time zone, end of data). Returns only what is dated on
    a cell: each cell's result is the same whatever else is in the batch.
    """
    context = _fresh(template, events.lazy())
    keys = cells.lazy().select("shop", "day")

    def mine(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.join(keys, on=["shop", "day"], how="semi")

    day_plans, wait_plans, finding_plans, item_plans = [], [], [], []
    for rule in rules:
        if rule.check in PERIOD_CHECKS:
            continue
        output: CheckOutput = CHECKS[rule.check].run(rule, context)
        if output.days is not None:
            day_plans.append(conform(mine(output.days), DAY_SCHEMA))
        if output.items is not None:
            # An item belongs to the day of its first message (local time), like the item it counts.
            # (in the ruleset's zone: item times may come back in UTC)
            local = pl.col("ts").dt.convert_time_zone(template.timezone)
            dated = output.items.with_columns(local.dt.date().alias("day"))
            item_plans.append(conform(mine(dated), ITEM_SCHEMA))
        # Findings with a conversation are per item; the others (rates, escalations) are
        # judged per period from the combined day rows, in `combine`.
        if rule.check not in RATE_CHECKS:
            findings = conform(output.findings, FINDING_SCHEMA, keep=(IDENTITY,))
            finding_plans.append(mine(findings.filter(pl.col("conversation").is_not_null())))
        if rule.check in WAIT_CHECKS:
            for scope in rule.params["scopes"]:
                items = mine(reply_items(context, rule, scope).filter(pl.col("wait").is_not_null()))
                agent = pl.col("agent") if scope == "agent" else pl.lit(None, dtype=pl.String)
                counts = items.group_by("shop", agent.alias("agent"), "day", "wait").agg(pl.len().alias("n"))
                wait_plans.append(
                    conform(counts.with_columns(pl.lit(rule.code).alias("rule"), pl.lit(scope).alias("scope")), WAIT_SCHEMA)
                )
    collected = pl.collect_all(day_plans + wait_plans + finding_plans + item_plans, engine="in-memory")
    a, b, c = len(day_plans), len(day_plans) + len(wait_plans), len(day_plans) + len(wait_plans) + len(finding_plans)
    return PartitionResult(
        days=_concat(collected[:a], DAY_SCHEMA),
        waits=_concat(collected[a:b], WAIT_SCHEMA),
        findings=_concat([f.select(list(FINDING_SCHEMA)) for f in collected[b:c]], FINDING_SCHEMA),
        items=collected[c:],
    )


def _concat(frames: list[pl.DataFrame], schema: dict) -> pl.DataFrame:
    return pl.concat([pl.DataFrame(schema=schema), *frames], how="vertical")


def partitions(events: pl.LazyFrame, judged: pl.Expr, batch_rows: int) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(events, cells) per batch of (shop, day) partitions of about `batch_rows` judged rows,
    in shop and day order (a batch may hold several small shops): the events are the whole
    conversations with an event on one of the cells. Days without a judged event are skipped.

    Only the batch's rows are ever collected: a conversation within one day is read with
    its day; the conversations that run over several days (`spans`, one row each, few) say
    which other days to read for the look-behind and look-ahead.
    """
    # Spilled events (spill.py) live on disk: the aggregates below stream over them, and each
    # batch reads only its shops' (shop key, day) folders.
    spilled = spill.is_spilled(events)
    engine = "streaming" if spilled else "in-memory"
    spans = _spans(events, engine, spilled)
    per_day = events.filter(judged).group_by("shop", "day").len().sort("shop", "day").collect(engine=engine)
    shop_keys = events.select("shop", spill.SHOP_KEY).unique().collect(engine=engine) if spilled else None
    # Batch number per cell: a new batch starts once the running total reaches batch_rows.
    total = pl.col("len").cum_sum()
    batch = ((total - pl.col("len")) // batch_rows).alias("_batch")
    for (_,), cells in per_day.with_columns(batch).partition_by("_batch", as_dict=True, maintain_order=True).items():
        yield _window(events, spans, cells, shop_keys), cells.drop("_batch")


def _spans(events: pl.LazyFrame, engine: str, spilled: bool) -> pl.DataFrame:
    """(shop, conversation, _first, _last) of the conversations with events on more than one
    day. Spilled, the conversations are taken by hash bucket, SPAN_BUCKET_ROWS input rows'
    worth at a time: one aggregation over the whole input held every conversation of it at
    once (100 M rows: from 1.6 to 3.7 GB before the first batch, docs/performance.md). A
    conversation falls in one bucket whole, so each bucket's spans are exact."""

    def span(frame: pl.LazyFrame) -> pl.LazyFrame:
        return (
            frame.group_by("shop", "conversation")
            .agg(pl.col("day").min().alias("_first"), pl.col("day").max().alias("_last"))
            .filter(pl.col("_first") != pl.col("_last"))
        )

    if not spilled:
        return span(events).collect(engine=engine)
    parts = spill.hash_buckets(events, pl.struct("shop", "conversation").hash(), SPAN_BUCKET_ROWS)
    return pl.concat([span(part).collect(engine=engine) for part in parts], how="vertical")


def _window(events: pl.LazyFrame, spans: pl.DataFrame, cells: pl.DataFrame, shop_keys: pl.DataFrame | None) -> pl.DataFrame:
    """The whole conversations that have an event on one of the cells' days in their shop,
    in input order: every row of the shop from its first to its last cell day, and the rows
    of the multi-day conversations (`spans`) that touch those days."""
    ranges = cells.group_by("shop").agg(pl.col("day").min().alias("_lo"), pl.col("day").max().alias("_hi"))
    touching = spans.join(ranges, on="shop").filter((pl.col("_first") <= pl.col("_hi")) & (pl.col("_last") >= pl.col("_lo")))
    first = min(ranges.get_column("_lo").min(), touching.get_column("_first").min() or date.max)
    last = max(ranges.get_column("_hi").max(), touching.get_column("_last").max() or date.min)
    shops = ranges.get_column("shop")
    where = pl.col("shop").is_in(shops.implode()) & pl.col("day").is_between(first, last)
    if shop_keys is not None:
        # The folder key first, so the scan skips the other shops' folders.
        keys = shop_keys.filter(pl.col("shop").is_in(shops.implode())).get_column(spill.SHOP_KEY)
        where = pl.col(spill.SHOP_KEY).is_in(keys.implode()) & where
    multi = touching.select("shop", "conversation", pl.lit(True).alias("_multi"))
    rows = (
        events.filter(where)
        .join(ranges.lazy(), on="shop", how="left")
        .join(multi.lazy(), on=["shop", "conversation"], how="left")
        .filter(pl.col("day").is_between(pl.col("_lo"), pl.col("_hi")) | pl.col("_multi").fill_null(False))
        .drop("_lo", "_hi", "_multi", *([spill.SHOP_KEY] if shop_keys is not None else []))
    )
    # Spilled, the window streams: `first`..`last` can be the shop's whole month (a buyer who
    # writes again weeks later is one conversation where the export gives none), and read
    # whole before the filter that keeps only the cells' days and the multi-day conversations,
    # one such batch of 100 M rows took RSS from 3.7 to 8.0 GB (docs/performance.md).
    return rows.collect(engine="in-memory" if shop_keys is None else "streaming").sort("_order")


def audit_all(
    events: pl.LazyFrame | pl.DataFrame,
    ruleset: Ruleset,
    template: Context,
    progress: Callable[..., None] = lambda stage, **fields: None,
    items_folder: Path | None = None,
    carried: PartitionResult | None = None,
) -> tuple[list[pl.DataFrame], list[pl.DataFrame], list[pl.DataFrame], list[pl.DataFrame | pl.LazyFrame]]:
    """Every partition, then `combine`: (metric frames, finding frames, day frames, item
    frames) for run_audit: metrics and findings one each per rule run, day rows one in all,
    late items one per rule and batch. With `items_folder` (a spilled run) each batch's late
    items are written there and come back as scans: most belong to passing metrics and are
    dropped once the metrics are known, so they need not stay in memory until then.
    `carried`: the turns an earlier night left pending, judged by this run (carry.py),
    counted with the partitions."""
    # Without an as-of day (no usable row) only the data-quality rule runs (run_audit).
    judging = template.as_of != date.min
    rules = [rule for rule in ruleset.rules if judging or rule.check == "data_quality"]
    if isinstance(events, pl.DataFrame):
        events = events.lazy()
    elif ruleset.session_gap is not None and not spill.is_spilled(events):
        # Sessions split at silences come from one sort of the whole input: done once here,
        # not once per partition.
        events = events.collect(engine="in-memory").lazy()
    results = []
    if judging:
        for batch_events, cells in partitions(events, template.judged_days(), BATCH_ROWS):
            first, last = cells.row(0, named=True), cells.row(-1, named=True)
            progress("progress.auditing", first=f"{first['shop']} {first['day']}", last=f"{last['shop']} {last['day']}")
            result = _compacted(audit_partition(batch_events, cells, rules, template))
            if items_folder is not None:
                result.items = [_on_disk(frame, items_folder / f"{len(results)}-{i}.parquet") for i, frame in enumerate(result.items)]
            results.append(result)
    if carried is not None:
        results.append(carried)
    progress("progress.combining")
    metric_frames, finding_frames, day_frames = combine(results, rules, template, events.collect_schema())
    progress("progress.finishing")  # what run_audit does next: store the days, sort, fingerprint
    item_frames = [frame for r in results for frame in r.items]
    return metric_frames, finding_frames, day_frames, item_frames


def _compacted(result: PartitionResult) -> PartitionResult:
    """The result with its own string buffers (compact.py): kept until `combine`, it would
    otherwise pin the batch's input texts."""
    return dataclasses.replace(
        result,
        days=compacted(result.days),
        waits=compacted(result.waits),
        findings=compacted(result.findings),
        items=[compacted(frame) if isinstance(frame, pl.DataFrame) else frame for frame in result.items],
    )


def _on_disk(frame: pl.DataFrame, path: Path) -> pl.LazyFrame:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return pl.scan_parquet(path)


def combine(
    results: list[PartitionResult], rules: list[Rule], template: Context, schema: pl.Schema
) -> tuple[list[pl.DataFrame], list[pl.DataFrame], list[pl.DataFrame]]:
    """Period metrics and period findings from the partitions' day rows (plus the stored
    history the template carries), with wait quantiles and the per-item findings."""
    days = _summed(_concat([r.days for r in results], DAY_SCHEMA))
    waits = _concat([r.waits for r in results], WAIT_SCHEMA)
    stored = [template.history.select(list(DAY_SCHEMA))] if template.history is not None else []
    context = _fresh(
        template,
        pl.LazyFrame(schema=schema),
        history=pl.concat([*stored, days.lazy()], how="vertical"),
        input_days=None,
    )
    metric_plans, finding_plans = [], []
    for rule in rules:
        output = CHECKS[rule.check].run(rule, context)
        metrics = conform(output.metrics.filter(context.reported_periods()), METRIC_SCHEMA)
        if rule.check in WAIT_CHECKS:
            metrics = _with_quantiles(metrics, waits.lazy().filter(pl.col("rule") == rule.code), rule, template.as_of)
        metric_plans.append(metrics)
        finding_plans.append(conform(output.findings, FINDING_SCHEMA, keep=(IDENTITY,)))
    collected = pl.collect_all(metric_plans + finding_plans, engine="in-memory")
    metric_frames, finding_frames = collected[: len(rules)], collected[len(rules) :]
    per_item = pl.concat([pl.DataFrame(schema=FINDING_SCHEMA), *[r.findings for r in results]], how="vertical")
    return metric_frames, [*finding_frames, per_item], [days]


def _summed(days: pl.DataFrame) -> pl.DataFrame:
    """One row per (rule, scope, shop, agent, day): a day's rows from a partition and from
    the turns carried into it (carry.py) are added up (a sum of nothing stays null)."""
    keys = ["rule", "scope", "shop", "agent", "day"]
    if days.select(pl.struct(keys).is_unique().all()).item():
        return days
    total = [pl.when(pl.col(c).count() > 0).then(pl.col(c).sum()).alias(c) for c in ("numerator", "denominator", "answered", "wait_sum")]
    return days.group_by(keys, maintain_order=True).agg(total).select(list(DAY_SCHEMA)).cast(DAY_SCHEMA)


def _with_quantiles(metrics: pl.LazyFrame, waits: pl.LazyFrame, rule: Rule, as_of: date) -> pl.LazyFrame:
    """Replace wait_p50/wait_p90 by the quantiles of the period's waits (value counts).

    The same figure as polars' `quantile(q, "linear")` over the waits themselves: with the
    waits sorted, position q·(n−1) between the values at its floor and the next position,
    v[lo] + (v[hi] − v[lo]) · fraction.
    """
    keys = ["scope", "shop", "agent", "period_start", "period_end"]
    counted = (
        periods.assign(waits, rule.params["period"], as_of)
        .group_by(*keys, "wait")
        .agg(pl.col("n").sum())
        .sort(*keys, "wait", nulls_last=True)
        .with_columns(pl.col("n").cast(pl.Int64).cum_sum().over(keys).alias("_end"))
        .with_columns((pl.col("_end") - pl.col("n")).alias("_start"), pl.col("n").sum().over(keys).alias("_total"))
    )
    quantiles = counted.select(*keys).unique()
    for name, q in QUANTILES.items():
        position = (pl.col("_total") - 1).cast(pl.Float64) * q
        targets = counted.select(*keys, "_total").unique().with_columns(
            position.alias("_pos"), position.floor().cast(pl.Int64).alias("_lo")
        ).with_columns(pl.min_horizontal(pl.col("_lo") + 1, pl.col("_total") - 1).alias("_hi"))

        def value_at(index: str, alias: str) -> pl.LazyFrame:
            return (
                targets.join(counted.select(*keys, "wait", "_start", "_end"), on=keys, how="inner", nulls_equal=True)
                .filter((pl.col("_start") <= pl.col(index)) & (pl.col(index) < pl.col("_end")))
                .select(*keys, pl.col("wait").alias(alias), "_pos", "_lo")
            )

        low = value_at("_lo", "_v_lo")
        high = value_at("_hi", "_v_hi").select(*keys, "_v_hi")
        value = pl.col("_v_lo") + (pl.col("_v_hi") - pl.col("_v_lo")) * (pl.col("_pos") - pl.col("_lo").cast(pl.Float64))
        quantiles = quantiles.join(
            low.join(high, on=keys, how="inner", nulls_equal=True).select(*keys, value.alias(name)),
            on=keys,
            how="left",
            nulls_equal=True,
        )
    return (
        metrics.drop(*QUANTILES)
        .join(quantiles, on=keys, how="left", nulls_equal=True, maintain_order="left")
        .select(list(METRIC_SCHEMA))
    )
