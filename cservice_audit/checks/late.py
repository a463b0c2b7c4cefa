"""The late items of a reply-rate or average-wait rule, for the drill-down (drilldown.py).

They are the very item rows the rule counted (items.reply_items), filtered by the rule's own
lateness test: nothing is derived a second time.
"""

from __future__ import annotations

import polars as pl

from cservice_audit.checks.context import Context
from cservice_audit.checks.items import reply_items
from cservice_audit.metrics import periods
from cservice_audit.ruleset import Rule
from cservice_audit.schema import ITEM_SCHEMA, conform


def late_items(context: Context, rule: Rule, late: pl.Expr) -> pl.LazyFrame:
    """The counted items of `rule` where `late` holds, per scope, with their period
    (ITEM_SCHEMA without `status`), for the periods this run reports."""
    params = rule.params
    frames = []
    for scope in params["scopes"]:
        items = periods.assign(reply_items(context, rule, scope).filter(late), params["period"], context.as_of)
        frames.append(
            conform(
                items.filter(context.reported_periods()).with_columns(
                    pl.lit(rule.code).alias("rule"),
                    pl.lit(scope).alias("scope"),
                    # A shop-scope metric's key has no agent; the item's agent is `handled_by`.
                    pl.col("agent") if scope == "agent" else pl.lit(None, dtype=pl.String).alias("agent"),
                    pl.lit(params["period"]).alias("period"),
                ),
                ITEM_SCHEMA,
            )
        )
    return pl.concat(frames, how="vertical")
