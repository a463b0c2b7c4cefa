"""Test fixture: real Twitter customer-support threads (Kaggle "Customer Support on Twitter",
see ../shared/data/real/README.md) converted into the canonical event table of
spec/metrics.md §1.

The export has no conversation and no agent column, only reply links
(`in_response_to_tweet_id`). A conversation is a connected component of the reply graph,
named after its smallest tweet id (`thread-8`); the brand account is the agent.

| canonical | from |
|---|---|
| `ts` | `created_at` (`Tue Oct 31 22:10:47 +0000 2017`) as ISO with offset |
| `shop` | author of the thread's first brand tweet, else `-` |
| `buyer` | author of the thread's first inbound tweet, else `brand-only` |
| `conversation` | `thread-<smallest tweet id in the component>` |
| `role` | `inbound` True -> `buyer`, False -> `agent` |
| `agent` | `author_id` of brand tweets, null on customer tweets |
| `text` | `text`, verbatim |
| `message_id` | `tweet_id` |

"First" means earliest by `created_at`, ties by file order. Row order is the file's order
(which is not time order), so the canonical table keeps that mess too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
HEAD5000 = REAL_DIR / "twcs_head5000.csv"
SAMPLE93 = REAL_DIR / "twcs_kaggle_sample93.csv"

CREATED_AT = "%a %b %d %H:%M:%S %z %Y"
CANONICAL_COLUMNS = ("ts", "shop", "buyer", "conversation", "role", "agent", "text", "message_id")
NO_BUYER = "brand-only"
NO_SHOP = "-"


def _normalize_id(column: str) -> pl.Expr:
    """`3.0` (pandas float re-save) and `3` are the same tweet; blank means no link."""
    value = pl.col(column).str.strip_chars().str.replace(r"\.0+$", "")
    return pl.when(value == "").then(None).otherwise(value)


def read_twcs(path: str | Path) -> pl.DataFrame:
    """The export as strings with normalized ids, a parsed `_ts` and the file order `_idx`."""
    raw = pl.read_csv(path, infer_schema=False)
    frame = raw.with_row_index("_idx").with_columns(
        _normalize_id("tweet_id").alias("tweet_id"),
        _normalize_id("in_response_to_tweet_id").alias("in_response_to"),
        pl.col("inbound").str.strip_chars().alias("inbound"),
        pl.col("created_at").str.to_datetime(CREATED_AT, time_unit="ms").dt.convert_time_zone("UTC").alias("_ts"),
    )
    bad_inbound = frame.filter(~pl.col("inbound").is_in(["True", "False"]))
    assert bad_inbound.height == 0, f"{path}: inbound is not True/False on rows {bad_inbound['_idx'].to_list()[:5]}"
    assert frame["_ts"].null_count() == 0, f"{path}: unparseable created_at"
    assert frame["tweet_id"].is_duplicated().sum() == 0, f"{path}: duplicate tweet ids"
    return frame


def thread_roots(frame: pl.DataFrame) -> pl.DataFrame:
    """tweet_id -> conversation, the connected components of the reply graph (union-find).
    A parent missing from the file links nothing."""
    ids = frame["tweet_id"].to_list()
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for child, up in frame.select("tweet_id", "in_response_to").iter_rows():
        if up is not None and up in parent:
            a, b = find(child), find(up)
            if a != b:
                # Keep the smaller id as the root, so the root is the component's minimum.
                if int(a) < int(b):
                    parent[b] = a
                else:
                    parent[a] = b
    return pl.DataFrame(
        {"tweet_id": ids, "conversation": [f"thread-{find(i)}" for i in ids]},
        schema={"tweet_id": pl.String, "conversation": pl.String},
    )


def _first_author(frame: pl.DataFrame, inbound: str, name: str) -> pl.DataFrame:
    return (
        frame.filter(pl.col("inbound") == inbound)
        .sort("_ts", "_idx")
        .group_by("conversation", maintain_order=True)
        .agg(pl.col("author_id").first().alias(name))
    )


def to_canonical(path: str | Path, *, keep_links: bool = False) -> pl.DataFrame:
    """The canonical event table, one row per tweet, in the file's row order.

    With `keep_links`, the fixture's own columns (`in_response_to`, `_ts`, `_idx`) stay on
    for building reference answers; they are never written to the tool's input.
    """
    frame = read_twcs(path)
    frame = frame.join(thread_roots(frame), on="tweet_id", how="left", maintain_order="left")
    frame = (
        frame.join(_first_author(frame, "True", "buyer"), on="conversation", how="left", maintain_order="left")
        .join(_first_author(frame, "False", "shop"), on="conversation", how="left", maintain_order="left")
        .sort("_idx")
    )
    is_brand = pl.col("inbound") == "False"
    canonical = frame.select(
        pl.col("_ts").dt.strftime("%Y-%m-%dT%H:%M:%S%:z").alias("ts"),
        pl.col("shop").fill_null(NO_SHOP),
        pl.col("buyer").fill_null(NO_BUYER),
        "conversation",
        pl.when(is_brand).then(pl.lit("agent")).otherwise(pl.lit("buyer")).alias("role"),
        pl.when(is_brand).then(pl.col("author_id")).alias("agent"),
        "text",
        pl.col("tweet_id").alias("message_id"),
        *(("in_response_to", "_ts", "_idx") if keep_links else ()),
    )
    assert canonical.height == frame.height == read_twcs(path).height
    return canonical


def write_canonical(canonical: pl.DataFrame, path: str | Path) -> Path:
    """The tool's input: canonical columns only, in the table's row order."""
    canonical.select(CANONICAL_COLUMNS).write_csv(path)
    return Path(path)


@dataclass(frozen=True)
class DirectPair:
    customer_id: str
    brand_id: str
    conversation: str
    gap_seconds: float


@dataclass
class DirectPairs:
    """Customer tweet -> brand tweet direct replies, split into those where the brand tweet
    is the first reply after the customer tweet in its conversation (the tool's wait must
    equal their gap) and the rest, with the reason each is left out."""

    checked: list[DirectPair]
    excluded: dict[str, list[DirectPair]]

    @property
    def total(self) -> int:
        return len(self.checked) + sum(len(v) for v in self.excluded.values())


def direct_pairs(canonical: pl.DataFrame) -> DirectPairs:
    """From a `to_canonical(..., keep_links=True)` table, in plain Python.

    Order within a conversation is ts, then row order (the order the rows are written in,
    which is the tool's input order)."""
    rows = canonical.select(
        "message_id", "conversation", "role", "ts", "in_response_to", pl.int_range(pl.len()).alias("order")
    ).to_dicts()
    by_id = {r["message_id"]: r for r in rows}
    for r in rows:
        r["when"] = datetime.fromisoformat(r["ts"])
    streams: dict[str, list[dict]] = {}
    for r in rows:
        streams.setdefault(r["conversation"], []).append(r)
    first_reply_after: dict[str, dict | None] = {}
    for stream in streams.values():
        stream.sort(key=lambda r: (r["when"], r["order"]))
        following: dict | None = None
        for r in reversed(stream):
            if r["role"] == "buyer":
                first_reply_after[r["message_id"]] = following
            elif r["role"] == "agent":
                following = r

    checked: list[DirectPair] = []
    excluded: dict[str, list[DirectPair]] = {}
    for b in rows:
        c = by_id.get(b["in_response_to"]) if b["in_response_to"] is not None else None
        if b["role"] != "agent" or c is None or c["role"] != "buyer":
            continue
        assert b["conversation"] == c["conversation"], f"reply {b['message_id']} left its thread"
        pair = DirectPair(
            c["message_id"], b["message_id"], c["conversation"], (b["when"] - c["when"]).total_seconds()
        )
        first = first_reply_after[c["message_id"]]
        if first is b:
            checked.append(pair)
            continue
        if first is None:
            why = "brand reply is not after the customer tweet"
        elif first["in_response_to"] == c["message_id"]:
            why = "an earlier brand reply to the same customer tweet comes first"
        else:
            why = "another brand tweet in the thread comes first"
        excluded.setdefault(why, []).append(pair)
    return DirectPairs(checked, excluded)
