"""Spilling: the normalized events on disk, cut by (shop, day), for inputs too big to hold.

Why: the in-memory road holds the whole normalized event table (≈0.4 GiB per million rows),
so 30 M rows cannot stay under 4 GB and 100 M cannot run on a 24 GB machine. Above
`threshold()` bytes of input, run_audit streams the normalized events into a temporary
folder of Parquet files, one folder per (shop key, day) (hive layout: `_sk=…/day=…/`), and
everything after reads from there:

- each batch of partitions (partition.py) reads only its (shop, day) folders, plus the
  folders of the few conversations that run over several days (look-behind/ahead);
- what needs the whole input is computed on the spilled columns, never on whole rows:
  duplicates by hash bucket (`duplicates`), the input summary, the as-of day, the covered
  days and the bots are aggregations (streaming engine).

The shop key is a hash of the shop modulo SHOP_KEYS: it only chooses folders (two shops may
share one; every reader filters on the shop itself), and keeps the number of folders bounded
however many shops an export holds. docs/performance.md "Partitions" has the measurements.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from cservice_audit import limits
from cservice_audit.load import RawTable
from cservice_audit.normalize import Normalized, duplicate_key, sessions

# Inputs above this many bytes (sum of the files' sizes) are spilled; smaller ones are held
# in memory, which is faster (no Parquet round trip: at 2 M rows the spilled audit took about
# twice the CPU). 512 MiB is ≈3.2 M rows of a typical CSV export, ≈1.6 GiB in memory, and
# keeps `make bench`'s 2 M rows in memory. The environment variable overrides it (0: always
# spill, as the tests do to exercise this road on small inputs).
THRESHOLD_BYTES = 512 << 20
THRESHOLD_ENV = "CSERVICE_AUDIT_SPILL_BYTES"
SHOP_KEY = "_sk"
DUP_KEY = "_key"
SHOP_KEYS = 256
HIVE_SCHEMA = {"chunk": pl.UInt32, SHOP_KEY: pl.UInt64, "day": pl.Date}
# Input rows normalized and written per pass (spill.write): ≈0.5 GiB peak at 1 M.
CHUNK_ROWS = 1_000_000
# Rows per session-finding pass (JD: sessions split at silences), each sorted in memory.
SESSION_BUCKET_ROWS = 4_000_000
# Rows per duplicate-finding pass: each pass holds one hash bucket's (key, count) table.
DUP_BUCKET_ROWS = 8_000_000


def threshold() -> int:
    raw = os.environ.get(THRESHOLD_ENV)
    return int(raw) if raw not in (None, "") else THRESHOLD_BYTES


def input_bytes(paths: list[str]) -> int:
    """Bytes of the named files (stdin and anything not a regular file count as 0: they
    are spooled by the loader and take the in-memory road)."""
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size if os.path.isfile(path) else 0
        except OSError:
            pass
    return total


def folder(cleanup: contextlib.ExitStack) -> Path:
    """A new temporary folder in $TMPDIR, removed when `cleanup` closes: on return, on an
    error, on Ctrl-C, and on SIGTERM (a cron `timeout`: cli.main turns it into an exception,
    errors.Stopped), so the folder's gigabytes are not left behind."""
    return Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="cservice-audit-", ignore_cleanup_errors=True)))


def is_spilled(events: pl.LazyFrame) -> bool:
    return SHOP_KEY in events.collect_schema().names()


def write(
    tables: list[RawTable], normalize: Callable[[list[RawTable], int], Normalized], folder: Path
) -> tuple[pl.LazyFrame, pl.DataFrame, pl.DataFrame]:
    """Normalize `tables` slice by slice (CHUNK_ROWS rows each) and stream each slice's events
    (duplicates not yet marked, message_id kept, plus the duplicate key's hash `_key`) into
    `folder`, cut by (shop key, day). Returns the scan of what was written, the rejected rows
    (the first rejects_kept, as normalize keeps them) and the per-file counts.

    Why slices: polars' streaming engine, on the whole normalize plan at once, still grew
    ≈0.3 GiB per million rows (measured; a bare CSV → Parquet copy stays flat), so each
    slice is one bounded pass. `normalize(tables, order_offset)` is normalize.normalize with
    the run's choices."""
    target = folder / "events"
    rejects, counts = [], []
    offset, chunk = 0, 0
    for table in tables:
        rows = table.frame.select(pl.len()).collect(engine="streaming").item()
        for start in range(0, max(rows, 1), CHUNK_ROWS):
            part = dataclasses.replace(table, frame=table.frame.slice(start, CHUNK_ROWS))
            normalized = normalize([part], offset)
            keyed = normalized.events.drop("_duplicate", "_record").with_columns(
                (pl.col("shop").hash() % SHOP_KEYS).alias(SHOP_KEY),
                duplicate_key().hash().alias(DUP_KEY),
            )
            sink = keyed.sink_parquet(
                pl.PartitionBy(str(target / f"chunk={chunk}"), key=[SHOP_KEY, "day"]), mkdir=True, lazy=True
            )
            _, rejected, count = pl.collect_all([sink, normalized.rejects, normalized.counts], engine="streaming")
            rejects.append(rejected)
            counts.append(count)
            blank = count.get_column("rows_blank").sum() if count.height else 0
            offset += min(CHUNK_ROWS, rows - start) - blank
            chunk += 1
    kept = pl.concat(rejects, how="vertical").head(limits.current().rejects_kept)
    summed = pl.concat(counts, how="vertical").group_by("_source", maintain_order=True).agg(pl.all().sum())
    if not target.exists():  # no usable row at all: an empty table of the same shape
        return keyed.clear(), kept, summed
    scan = pl.scan_parquet(str(target), hive_partitioning=True, hive_schema=HIVE_SCHEMA)
    return scan.drop("chunk"), kept, summed


def hash_buckets(events: pl.LazyFrame, key: pl.Expr, rows_per_bucket: int) -> Iterator[pl.LazyFrame]:
    """`events` cut by `key` (a hash) modulo the number of buckets, about `rows_per_bucket`
    input rows each: rows with equal keys meet in one bucket, and each pass over a bucket holds
    only its share. One bucket (all of `events`, unfiltered) when the input fits in one."""
    rows = events.select(pl.len()).collect(engine="streaming").item()
    buckets = max(1, math.ceil(rows / rows_per_bucket))
    if buckets == 1:
        yield events
        return
    for bucket in range(buckets):
        yield events.filter(key % buckets == bucket)


def duplicates(events: pl.LazyFrame) -> pl.DataFrame:
    """(_order, _source) of every row that is a duplicate of an earlier one (the same key as
    normalize.mark_duplicates, exactly): rows are bucketed by the key's hash, so equal keys
    meet in one bucket and each pass holds one bucket's counts; the few rows whose hash
    repeats are then compared on the key itself (a hash collision is not a duplicate)."""
    repeated = []
    for mine in hash_buckets(events.select(DUP_KEY), pl.col(DUP_KEY), DUP_BUCKET_ROWS):
        counts = mine.group_by(DUP_KEY).len().filter(pl.col("len") > 1).select(DUP_KEY)
        repeated.append(counts.collect(engine="streaming"))
    keys = pl.concat(repeated).get_column(DUP_KEY)
    schema = {"_order": pl.UInt32, "_source": pl.String}
    if keys.is_empty():
        return pl.DataFrame(schema=schema)
    candidates = events.filter(pl.col(DUP_KEY).is_in(keys.implode())).collect(engine="streaming").sort("_order")
    return candidates.filter(~duplicate_key().is_first_distinct()).select(pl.col("_order"), pl.col("_source").cast(pl.String))


def with_sessions(events: pl.LazyFrame, session_gap: float, folder: Path, opens: int | None = None) -> pl.LazyFrame:
    """`events` (spilled, duplicates dropped) with `_session`, as normalize.sessions numbers
    them, without sorting the whole input: a session never leaves its (shop, buyer), so the
    events are taken by hash bucket of (shop, buyer), each bucket sorted alone, and the
    session numbers written next to the events, cut the same way (shop key, day), so a
    batch reads only its own."""
    target = folder / "sessions"
    for b, mine in enumerate(hash_buckets(events, pl.struct("shop", "buyer").hash(), SESSION_BUCKET_ROWS)):
        numbered = sessions(mine, session_gap, opens).collect(engine="in-memory")
        keys = mine.select("_order", SHOP_KEY, "day").collect(engine="streaming")
        numbered.join(keys, on="_order").lazy().sink_parquet(
            pl.PartitionBy(str(target / f"chunk={b}"), key=[SHOP_KEY, "day"]), mkdir=True
        )
    if not target.exists():
        return events.with_columns(pl.lit(None, dtype=pl.String).alias("_session"))
    numbers = pl.scan_parquet(str(target), hive_partitioning=True, hive_schema=HIVE_SCHEMA).drop("chunk")
    # Joined on the folder keys too, so a batch's filter on them prunes both sides.
    return events.join(numbers, on=[SHOP_KEY, "day", "_order"], how="left")
