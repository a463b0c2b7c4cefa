"""Waits, turns and attribution (spec/metrics.md §3), as whole-column expressions.

`message_waits` gives one row per non-spam buyer message with the wait until the first reply
after it in the same conversation, the turn it belongs to and the agent it is attributed to.
What counts as a reply (`reply_roles`) is a rule parameter, so the frame is built once per
distinct `reply_roles` and shared by every rule that uses it.

Speed: the stream is sorted once by (conversation, ts, input order) and every "next reply",
"earlier reply" and "turn" is a linear scan (fill forward/backward, cumulative sum) over the
whole column, guarded by an integer conversation id so nothing leaks across conversations.
Window functions keyed by conversation strings (`over`) did the same work several times slower.
"""

from __future__ import annotations

import polars as pl

UNASSIGNED = "(unassigned)"


def _within(value: pl.Expr, key: str, direction: str) -> pl.Expr:
    """Fill `value` from the nearest row in `direction` where it is set, but only from a row
    with the same `key`: a fill that would cross into another key's rows gives null."""
    owner = pl.when(value.is_not_null()).then(pl.col(key))
    if direction == "backward":
        return pl.when(owner.backward_fill() == pl.col(key)).then(value.backward_fill())
    return pl.when(owner.forward_fill() == pl.col(key)).then(value.forward_fill())


def conversation_stream(events: pl.LazyFrame) -> pl.LazyFrame:
    """The rows that can start or answer something, sorted once for every reply rule.

    Non-spam buyer messages and agent and bot messages, ordered by conversation, then ts,
    then input order (spec §1), with `_conv`: a dense integer id per conversation. System
    rows, review rows and spam neither start nor answer anything (spec §3).
    """
    # Sorting by time first and then, stably, by conversation costs less than one sort on
    # three keys, and gives the same order. A conversation is keyed by shop and id, as integer
    # codes: two shops' exports may number their sessions alike, and conversations never
    # cross shops (so a partition of several shops sees each conversation as alone).
    shop, code = pl.col("_shop_code"), pl.col("_code")
    return (
        events.filter(((pl.col("role") == "buyer") & ~pl.col("spam")) | pl.col("role").is_in(["agent", "bot"]))
        .sort("ts", "_order")
        .with_columns(
            pl.col("shop").cast(pl.Categorical).to_physical().alias("_shop_code"),
            pl.col("conversation").cast(pl.Categorical).to_physical().alias("_code"),
        )
        .sort("_shop_code", "_code", maintain_order=True)
        # A dense id in stream order: 1, 1, 1, 2, 2, ... (one per conversation).
        .with_columns(((code != code.shift(1)) | (shop != shop.shift(1))).fill_null(True).cum_sum().alias("_conv"))
    )


def message_waits(events: pl.LazyFrame, reply_roles: tuple[str, ...]) -> pl.LazyFrame:
    """Per-message waits straight from the event table (see `waits_from_stream`)."""
    return waits_from_stream(conversation_stream(events), reply_roles)


def waits_from_stream(stream: pl.LazyFrame, reply_roles: tuple[str, ...]) -> pl.LazyFrame:
    """One row per counted buyer message, from a `conversation_stream`.

    Columns: shop, buyer, conversation, ts, day, tod, text, agent (attributed), reply_ts,
    wait (seconds, null when unanswered), turn (0-based within the conversation),
    turn_start (first message of its turn), conversation_start (first buyer message),
    _conv (integer conversation id).
    """
    is_reply = pl.col("role").is_in(list(reply_roles))
    # Roles that are not replies for this rule (robots, unless it says otherwise) leave:
    # they neither answer nor end a turn.
    stream = stream.filter((pl.col("role") == "buyer") | is_reply).with_columns(is_reply.alias("_is_reply"))
    reply = pl.col("_is_reply")
    replies_so_far = reply.cum_sum()
    conversation_begins = (pl.col("_conv") != pl.col("_conv").shift(1)).fill_null(True)
    stream = stream.with_columns(
        # A buyer row is never a reply, so the next reply value filled backward is strictly after it.
        _within(pl.when(reply).then(pl.col("ts")), "_conv", "backward").alias("reply_ts"),
        _within(pl.when(reply).then(pl.col("agent")), "_conv", "backward").alias("_reply_agent"),
        _within(pl.when(reply).then(pl.col("agent")), "_conv", "forward").alias("_earlier_reply_agent"),
        # Turn number = replies earlier in the same conversation.
        (replies_so_far - pl.when(conversation_begins).then(replies_so_far - reply.cast(pl.UInt32)).forward_fill()).alias("turn"),
    )
    buyers = stream.filter(~reply).with_columns(
        (
            (pl.col("_conv") != pl.col("_conv").shift(1)) | (pl.col("turn") != pl.col("turn").shift(1))
        ).fill_null(True).alias("turn_start"),
        (pl.col("_conv") != pl.col("_conv").shift(1)).fill_null(True).alias("conversation_start"),
    ).with_columns(pl.col("turn_start").cum_sum().alias("_turn_id"))
    # Exports that route buyer rows to a sub-account: an unanswered turn belongs to the agent
    # on its last buyer row (spec §3), taken at the turn's last row and spread over the turn.
    is_turn_end = (pl.col("_turn_id") != pl.col("_turn_id").shift(-1)).fill_null(True)
    routed = _within(pl.when(is_turn_end).then(pl.col("agent")), "_turn_id", "backward")
    return buyers.select(
        "shop",
        "buyer",
        "conversation",
        "ts",
        "day",
        "tod",
        "text",
        pl.coalesce(pl.col("_reply_agent"), routed, pl.col("_earlier_reply_agent"), pl.lit(UNASSIGNED)).alias("agent"),
        "reply_ts",
        ((pl.col("reply_ts") - pl.col("ts")).dt.total_milliseconds() / 1000.0).alias("wait"),
        pl.col("turn").cast(pl.UInt32),
        "turn_start",
        "conversation_start",
        "_conv",  # the integer conversation id: a cheap key for per-turn windows
    )
