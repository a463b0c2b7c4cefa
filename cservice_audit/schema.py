"""The two public tables every check produces and every formatter renders, declared once.

An empty frame with these schemas is the normal clean result, so table headers and CSV
columns never change with the data.
"""

from __future__ import annotations

import hashlib

import polars as pl

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

METRIC_SCHEMA = {
    "rule": pl.String,
    "name": pl.String,
    "scope": pl.String,  # agent | shop
    "shop": pl.String,
    "agent": pl.String,  # null at shop scope
    "period": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "complete": pl.Boolean,
    "numerator": pl.Float64,
    "denominator": pl.Int64,
    "value": pl.Float64,
    "threshold": pl.Float64,
    "status": pl.String,  # pass | fail | at_risk | insufficient
    "answered": pl.Int64,  # items with a reply (reply and wait rules), else null
    "wait_mean": pl.Float64,  # seconds, answered items only
    "wait_p50": pl.Float64,
    "wait_p90": pl.Float64,
    "points": pl.Float64,
    "coverage": pl.Int64,  # days in the period with data (this run's input and stored history)
    # What an at-risk period still needs to pass (needs.py; null unless status is at_risk).
    "expected_remaining": pl.Int64,  # items the remaining days should bring, at the volume so far
    "needed_good": pl.Int64,  # of those, how many must be good (on time / satisfied / not attitude)
    "needed_rate": pl.Float64,  # needed_good / expected_remaining
    "needed_mean_wait": pl.Float64,  # average-wait rules: the mean (seconds) the rest must keep
    "can_pass": pl.Boolean,  # false: the period can no longer pass at that volume
}

# The drill-down (drilldown.py): the late and unanswered items of every failing or at-risk
# reply-rate and average-wait metric, one row per item and metric (a shop-scope metric lists
# the union of its agents' items). An item is a message, a turn (its first message), a
# conversation (its first message) or a buyer-day (its worst message).
ITEM_SCHEMA = {
    "rule": pl.String,
    "scope": pl.String,  # the metric's scope keys: agent | shop
    "shop": pl.String,
    "agent": pl.String,  # null at shop scope
    "period": pl.String,
    "period_start": pl.Date,
    "status": pl.String,  # the metric's status: fail | at_risk
    "conversation": pl.String,
    "buyer": pl.String,
    "handled_by": pl.String,  # the agent the item is attributed to (spec §3)
    "ts": pl.Datetime("ms", "UTC"),  # the item's buyer message; rendered in the ruleset's zone
    "wait": pl.Float64,  # seconds until the first reply; null: unanswered
    "reply_ts": pl.Datetime("ms", "UTC"),  # null: unanswered
}

FINDING_SCHEMA = {
    "code": pl.String,
    "severity": pl.String,  # error | warning | info
    "name": pl.String,
    "scope": pl.String,
    "shop": pl.String,
    "agent": pl.String,
    "conversation": pl.String,
    "buyer": pl.String,
    "day": pl.Date,
    "ts": pl.Datetime("ms", "UTC"),  # converted to the ruleset's zone when rendered
    "period": pl.String,
    "period_start": pl.Date,
    "message": pl.String,  # English, in the JSON and CSV (stable whatever --lang)
    "message_zh": pl.String,  # the same in Chinese: the human formats and the JSON (docs/i18n.md)
    "evidence": pl.String,  # how it was counted, or the data it rests on; English where it is words
    "evidence_zh": pl.String,  # rate findings: the same in Chinese, for the people-facing formats only
    "match": pl.String,  # text rules: the matched text (normalized), else null
    "points": pl.Float64,
    "tier": pl.String,  # escalation tier reached (e.g. 情节严重), else null
    "penalty": pl.String,  # what the platform does at that tier
    "fingerprint": pl.String,
    "status": pl.String,  # period findings: fail | at_risk; a turn waiting for more data: pending; else null
    "tier_rank": pl.Int64,  # the tier's rank among the rule's tiers (0 = lowest), -1 = none
    "state": pl.String,  # new | known, against the baseline (spec §11)
}

# Finding columns in the reader's language: the CSV (canonical columns, read by other tools)
# leaves them out and the workbook shows them in place of the English ones. The JSON keeps
# `message_zh` beside `message` (a bot or script that speaks Chinese reads it) and leaves out
# only `JSON_OMITS`; whatever --lang is, every machine format is the same (docs/i18n.md).
HUMAN_ONLY = ("message_zh", "evidence_zh")
JSON_OMITS = ("evidence_zh",)

# The parts of a finding that identify it across runs (never row numbers, never the
# measured value, so a day that fails again with another rate keeps its fingerprint).
FINGERPRINT_KEYS = ("code", "scope", "shop", "agent", "conversation", "buyer", "day", "ts", "period", "period_start")
# A check whose findings those fields cannot tell apart adds this column (dropped after hashing).
IDENTITY = "_identity"


def empty_metrics() -> pl.LazyFrame:
    return pl.LazyFrame(schema=METRIC_SCHEMA)


def conform(frame: pl.LazyFrame, schema: dict[str, pl.DataType], keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Select the schema's columns in order, casting; missing ones become nulls.

    Time-zone-aware columns are converted (the same instant), never relabelled.
    """
    names = frame.collect_schema().names()

    def column(name: str, dtype: pl.DataType) -> pl.Expr:
        if name not in names:
            return pl.lit(None).cast(dtype).alias(name)
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            return pl.col(name).dt.convert_time_zone(dtype.time_zone).cast(dtype).alias(name)
        return pl.col(name).cast(dtype).alias(name)

    return frame.select(*(column(n, t) for n, t in schema.items()), *[k for k in keep if k in names])


def with_fingerprints(findings: pl.DataFrame) -> pl.DataFrame:
    """Add a stable fingerprint: sha1 of the identifying fields, and sort deterministically.

    Findings are few next to the events, so hashing them in Python costs nothing and
    keeps the fingerprint independent of polars' internal hash, which may change.
    """
    parts = [pl.col(k).cast(pl.String).fill_null("") for k in FINGERPRINT_KEYS]
    # A rolling 30-day window starts one day later every night: with its start in the print,
    # an agent failing the same 30-day rule night after night was a new finding each night,
    # and a nightly cron alerted every night (spec §11: known when the baseline holds it).
    # The window is the rule's standing verdict as of the run, so it is identified without it.
    start = FINGERPRINT_KEYS.index("period_start")
    parts[start] = pl.when(pl.col("period") == "rolling_30d").then(pl.lit("")).otherwise(parts[start])
    if IDENTITY in findings.columns:
        parts.append(pl.col(IDENTITY).fill_null(""))
    keys = findings.select(pl.concat_str(parts, separator="\x1f")).to_series()
    prints = [hashlib.sha1(k.encode("utf-8")).hexdigest()[:16] for k in keys]
    return findings.with_columns(pl.Series("fingerprint", prints, dtype=pl.String)).sort(
        "code", "shop", "agent", "period_start", "day", "ts", "conversation", "fingerprint", nulls_last=True
    )
