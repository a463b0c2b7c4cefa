"""The drill-down: which items made a reply-rate or average-wait metric fail.

The late items are the very item rows the rule counted (checks/items.reply_items), filtered
by the rule's own lateness test; nothing is derived a second time. Each check hands them over
lazily (checks/late.py); after the one collection, `failing_items` keeps those of the metrics
whose status is `fail` or `at_risk` and puts them worst first.

Items come from this run's input only: stored history keeps day sums, not items, so a weekly
metric that includes stored days lists the late items of the days in this input.
"""

from __future__ import annotations

import polars as pl

from cservice_audit.ruleset import Ruleset
from cservice_audit.schema import ITEM_SCHEMA

FAILING = ("fail", "at_risk")
METRIC_KEYS = ["rule", "scope", "shop", "agent", "period_start"]


def worst_first() -> list[pl.Expr]:
    """Unanswered first, then the longest wait, then the earliest."""
    return [pl.col("wait").is_not_null(), pl.col("wait"), pl.col("ts"), pl.col("conversation")]


def failing_items(items: list[pl.DataFrame | pl.LazyFrame], metrics: pl.DataFrame, ruleset: Ruleset) -> pl.DataFrame:
    """The items of failing and at-risk metrics, with the metric's status: in metric order
    (ruleset order, agents before the shop), each metric's items worst first.

    In memory, the order is found on a narrow frame (each item's number, its metric's place
    and the worst-first keys), and the whole rows are gathered once, by number: joining and
    sorting the full rows copied every column twice, and at 2 M douyin rows (1.6 M items,
    every one of a failing metric) that was the audit's peak. A spilled run hands the items
    over as scans of its folder, read by one streaming plan (30 M rows: 4 M items)."""
    order = {rule.code: i for i, rule in enumerate(ruleset.rules)}
    # The metrics' order, found on the few metric rows: `_place` numbers them in that order,
    # shared by metrics with equal keys, as they shared a place in one sort.
    flagged = (
        metrics.lazy()
        .filter(pl.col("status").is_in(FAILING))
        .select(*METRIC_KEYS, "status")
        .sort(
            [pl.col("rule").replace_strict(order, return_dtype=pl.Int64), pl.col("scope") == "shop", "shop", "agent", "period_start"],
            nulls_last=True,
            maintain_order=True,
        )
        .with_columns(pl.struct(METRIC_KEYS).rle_id().alias("_place"))
        .collect()
    )
    worst = {"descending": [False, False, True, False, False], "nulls_last": True, "maintain_order": True}
    if any(isinstance(frame, pl.LazyFrame) for frame in items):
        # Spilled: one streaming plan over the item scans, which never holds them whole. The
        # narrow road below, with a streaming join for the gather, peaked the same at 30 M rows
        # (3.00 GB against 3.14) and higher at 100 M (7.35 GB against 6.04), same report.
        scans = pl.concat([pl.LazyFrame(schema=ITEM_SCHEMA), *(frame.lazy() for frame in items)], how="vertical").drop("status")
        return (
            scans.join(flagged.lazy().select(*METRIC_KEYS, "status", "_place"), on=METRIC_KEYS, how="inner", nulls_equal=True)
            .sort(["_place", *worst_first()], **worst)
            .select(list(ITEM_SCHEMA))
            .collect(engine="streaming")
        )
    combined = pl.concat([pl.DataFrame(schema=ITEM_SCHEMA), *items], how="vertical", rechunk=False).drop("status")
    ranked = (
        combined.lazy()
        .with_row_index("_item")
        .select("_item", *METRIC_KEYS, "wait", "ts", "conversation")
        .join(flagged.lazy().select(*METRIC_KEYS, "status", "_place"), on=METRIC_KEYS, how="inner", nulls_equal=True, maintain_order="left")
        .select("_item", "status", "_place", "wait", "ts", "conversation")
        .sort(["_place", *worst_first()], **worst)
        .select("_item", "status")
        .collect()
    )
    return combined[ranked.get_column("_item")].with_columns(ranked.get_column("status")).select(list(ITEM_SCHEMA))
