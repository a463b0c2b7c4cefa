"""Waits, turns and attribution (spec/metrics.md §3), as whole-column expressions.

`message_waits` gives one row per non-spam buyer message with the wait until the first reply
after it in the same conversation, the turn it belongs to and the agent it is attributed to.
What counts as a reply (`reply_roles`) is a rule parameter, so the frame is built once per
distinct `reply_roles` and shared by every rule that uses it.
"""

from __future__ import annotations

import polars as pl

UNASSIGNED = "(unassigned)"


def message_waits(events: pl.LazyFrame, reply_roles: tuple[str, ...]) -> pl.LazyFrame:
    """One row per counted buyer message.

    Columns: shop, buyer, conversation, ts, day, text, agent (attributed), reply_ts,
    wait (seconds, null when unanswered), turn (0-based within the conversation),
    turn_start (first message of its turn), conversation_start (first buyer message).
    """
    is_buyer = (pl.col("role") == "buyer") & ~pl.col("spam")
    is_reply = pl.col("role").is_in(list(reply_roles))
    # System rows, review rows, spam and non-reply roles (robots, unless the rule says
    # otherwise) neither start nor answer anything, so they leave the stream first.
    stream = events.filter(is_buyer | is_reply).sort("conversation", "ts", "_order")
    reply_ts = pl.when(is_reply).then(pl.col("ts"))
    reply_agent = pl.when(is_reply).then(pl.col("agent"))
    stream = stream.with_columns(
        # A buyer row is never a reply, so the next non-null reply value is strictly after it.
        reply_ts.backward_fill().over("conversation").alias("reply_ts"),
        reply_agent.backward_fill().over("conversation").alias("_reply_agent"),
        reply_agent.forward_fill().over("conversation").alias("_earlier_reply_agent"),
        is_reply.cum_sum().over("conversation").alias("turn"),
    )
    buyers = stream.filter(pl.col("role") == "buyer")
    routed = pl.col("agent").drop_nulls().last().over("conversation", "turn")
    return buyers.select(
        "shop",
        "buyer",
        "conversation",
        "ts",
        "day",
        "text",
        pl.coalesce(
            pl.col("_reply_agent"), routed, pl.col("_earlier_reply_agent"), pl.lit(UNASSIGNED)
        ).alias("agent"),
        "reply_ts",
        ((pl.col("reply_ts") - pl.col("ts")).dt.total_milliseconds() / 1000.0).alias("wait"),
        pl.col("turn").cast(pl.UInt32),
        pl.struct("conversation", "turn").is_first_distinct().alias("turn_start"),
        pl.col("conversation").is_first_distinct().alias("conversation_start"),
    )
