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


def failing_items(
    items: list[pl.DataFrame | pl.LazyFrame], metrics: pl.DataFrame, ruleset: Ruleset, engine: str = "in-memory"
) -> pl.DataFrame:
    """The items of failing and at-risk metrics, with the metric's status: in metric order
    (ruleset order, agents before the shop), each metric's items worst first.

    One plan, collected once: a spilled run hands the items over as scans of its folder and
    `engine="streaming"`, so join, order and sort are not each a copy of millions of rows
    (30 M rows: 4 M items)."""
    combined = pl.concat([pl.LazyFrame(schema=ITEM_SCHEMA), *(frame.lazy() for frame in items)], how="vertical").drop("status")
    flagged = metrics.lazy().filter(pl.col("status").is_in(FAILING)).select(*METRIC_KEYS, "status")
    order = {rule.code: i for i, rule in enumerate(ruleset.rules)}
    kept = combined.join(flagged, on=METRIC_KEYS, how="inner", nulls_equal=True)
    return (
        kept.with_columns(pl.col("rule").replace_strict(order, return_dtype=pl.Int64).alias("_rule_order"))
        .sort(
            ["_rule_order", pl.col("scope") == "shop", "shop", "agent", "period_start", *worst_first()],
            descending=[False, False, False, False, False, False, True, False, False],
            nulls_last=True,
            maintain_order=True,
        )
        .select(list(ITEM_SCHEMA))
        .collect(engine=engine)
    )
