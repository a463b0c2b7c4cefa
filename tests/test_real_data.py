"""Real data: Twitter customer-support threads (../shared/data/real/, see its README).

The tweets carry explicit reply links, so they give an answer key the tool never sees: a
customer tweet answered directly by the brand waited exactly the gap between the two tweets.
The file is also real mess (rows out of time order, multi-line quoted texts, a bare carriage
return inside an unquoted field), so it checks that no row and no text is lost on the way in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from cservice_audit.load import load
from cservice_audit.metrics.waits import message_waits
from cservice_audit.normalize import Aliases, assign_conversations, normalize

import twcs

pytestmark = pytest.mark.skipif(
    not (twcs.HEAD5000.is_file() and twcs.SAMPLE93.is_file()),
    reason=f"real-data fixtures not present at {twcs.REAL_DIR} (shared/data/real is outside the repo)",
)

CR_TWEET = "3399"  # its text holds "\r\r" in an unquoted field of the source file
CR_TEXT = "@AskPayPal \r\rI just love the start of email 😁 https://t.co/8u1Pf5rJoN"


@pytest.fixture(scope="module")
def head() -> pl.DataFrame:
    return twcs.to_canonical(twcs.HEAD5000, keep_links=True)


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    return twcs.to_canonical(twcs.SAMPLE93, keep_links=True)


def _write(canonical: pl.DataFrame, path: Path, *, bare_cr: bool = False) -> Path:
    """The canonical CSV. polars quotes the text with the carriage returns; `bare_cr`
    unquotes it again, as the source file has it."""
    twcs.write_canonical(canonical, path)
    if bare_cr:
        content = path.read_bytes()
        quoted = f'"{CR_TEXT}"'.encode()
        assert content.count(quoted) == 1, "the carriage-return tweet is not written as expected"
        path.write_bytes(content.replace(quoted, CR_TEXT.encode()))
        assert f",{CR_TEXT},".encode() in path.read_bytes()
    return path


def _through_tool(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(events without duplicates, with conversations assigned; rejected rows), as run_audit
    chains load -> normalize -> assign_conversations."""
    normalized = normalize(load([str(path)]), Aliases.shipped(), tz="UTC")
    events_all, rejects = pl.collect_all([normalized.events, normalized.rejects])
    events = assign_conversations(events_all.lazy().filter(~pl.col("_duplicate")), None).collect()
    return events, rejects


def _tool_waits(canonical: pl.DataFrame, tmp_path: Path) -> dict[str, float | None]:
    """message_id -> the tool's wait (seconds) for every customer tweet."""
    events, rejects = _through_tool(_write(canonical, tmp_path / "canonical.csv"))
    assert rejects.height == 0, rejects.select("message_id", "problem").head(5)
    waits = message_waits(events.lazy(), ("agent",)).collect()
    buyers = events.filter(pl.col("role") == "buyer").select("conversation", "ts", "text", "message_id")
    assert waits.height == buyers.height == canonical.filter(pl.col("role") == "buyer").height
    # message_waits does not carry message_id; (conversation, ts, text) identifies a tweet here.
    key = ["conversation", "ts", "text"]
    assert not buyers.select(pl.struct(key).is_duplicated().any()).item(), "ambiguous wait key"
    joined = waits.join(buyers, on=key, how="left", validate="1:1")
    assert joined["message_id"].null_count() == 0
    return dict(zip(joined["message_id"].to_list(), joined["wait"].to_list(), strict=True))


def _check_pairs(canonical: pl.DataFrame, tmp_path: Path) -> twcs.DirectPairs:
    pairs = twcs.direct_pairs(canonical)
    waits = _tool_waits(canonical, tmp_path)
    wrong = [
        (p.customer_id, p.brand_id, p.gap_seconds, waits.get(p.customer_id))
        for p in pairs.checked
        if waits.get(p.customer_id) != p.gap_seconds
    ]
    assert not wrong, (
        f"{len(wrong)} of {len(pairs.checked)} direct replies: the tool's wait differs from the gap "
        f"(customer tweet, brand tweet, gap s, tool wait s): {wrong[:10]}"
    )
    # A pair left out because another brand tweet comes first: the tool's wait is to that
    # earlier tweet, so it can only be shorter than (or equal to) the direct gap.
    longer = [
        (p.customer_id, p.brand_id, p.gap_seconds, waits.get(p.customer_id))
        for excluded in pairs.excluded.values()
        for p in excluded
        if waits.get(p.customer_id) is None or waits[p.customer_id] > p.gap_seconds
    ]
    assert not longer, f"wait longer than a direct brand reply, or unanswered: {longer[:10]}"
    return pairs


def _report(name: str, pairs: twcs.DirectPairs) -> None:
    gaps = sorted(p.gap_seconds for p in pairs.checked)
    excluded = ", ".join(f"{len(v)} {why}" for why, v in sorted(pairs.excluded.items())) or "none"
    print(
        f"\n{name}: {pairs.total} direct customer->brand pairs, {len(pairs.checked)} checked "
        f"(gap {gaps[0]:.0f} s .. {gaps[-1]:.0f} s), excluded: {excluded}"
    )


# -- conversion ---------------------------------------------------------------------------


def test_conversion_keeps_every_tweet(head: pl.DataFrame) -> None:
    raw = twcs.read_twcs(twcs.HEAD5000)
    assert raw.height == head.height == 5000
    assert head["message_id"].n_unique() == 5000
    assert set(head["message_id"]) == set(raw["tweet_id"])
    # README quick stats.
    assert (head["role"] == "buyer").sum() == 2778
    assert (head["role"] == "agent").sum() == 2222
    assert head["conversation"].n_unique() == 1312
    assert head.filter(pl.col("role") == "agent")["agent"].n_unique() == 76
    assert head["ts"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$").all()
    # Rows stay in the file's (unsorted) order and keep their texts verbatim.
    assert head["message_id"].to_list() == raw["tweet_id"].to_list()
    assert head["text"].to_list() == raw["text"].to_list()
    assert not head["ts"].is_sorted()
    assert head.filter(pl.col("message_id") == CR_TWEET)["text"].item() == CR_TEXT
    assert head["text"].str.contains("\n", literal=True).sum() > 100
    # Every conversation has one shop and one buyer; brand tweets name their brand.
    per_thread = head.group_by("conversation").agg(pl.col("shop", "buyer").n_unique())
    assert per_thread.filter((pl.col("shop") > 1) | (pl.col("buyer") > 1)).height == 0
    assert head.filter((pl.col("role") == "agent") & pl.col("agent").is_null()).height == 0


def test_conversion_threads_follow_reply_links(head: pl.DataFrame) -> None:
    by_id = dict(zip(head["message_id"], head["conversation"], strict=True))
    linked = [(m, p) for m, p in zip(head["message_id"], head["in_response_to"], strict=True) if p in by_id]
    assert len(linked) == 5000 - 1312  # a forest: one link fewer than tweets per thread
    assert all(by_id[m] == by_id[p] for m, p in linked)
    # The root named in the conversation is the smallest tweet id in it.
    roots = head.group_by("conversation").agg(pl.col("message_id").cast(pl.Int64).min().alias("root"))
    assert roots.filter(pl.col("conversation") != pl.format("thread-{}", "root")).height == 0
    # Parents outside the file link nothing (README: 6 such rows).
    missing = [p for p in head["in_response_to"].drop_nulls() if p not in by_id]
    assert len(missing) == 6


# -- waits against the reply links ----------------------------------------------------------


def test_waits_equal_direct_reply_gaps_head5000(head: pl.DataFrame, tmp_path: Path) -> None:
    pairs = _check_pairs(head, tmp_path)
    _report("twcs_head5000", pairs)
    assert pairs.total == 2188  # README: brand replies whose customer parent is in the file
    assert len(pairs.checked) >= 2000
    gaps = [p.gap_seconds for p in pairs.checked]
    assert min(gaps) == 21 and max(gaps) == 1_097_403  # README: min 21 s, max 12.7 days


def test_waits_equal_direct_reply_gaps_sample93(sample: pl.DataFrame, tmp_path: Path) -> None:
    assert sample.height == 93
    assert (sample["role"] == "buyer").sum() == 49
    pairs = _check_pairs(sample, tmp_path)
    _report("twcs_kaggle_sample93", pairs)
    assert pairs.total == 42  # README: 42 direct customer->brand reply pairs
    all_gaps = [p.gap_seconds for p in pairs.checked] + [p.gap_seconds for v in pairs.excluded.values() for p in v]
    assert min(all_gaps) == 50 and round(max(all_gaps) / 3600, 1) == 11.5  # README: 50 s .. 11.5 h
    assert len(pairs.checked) >= 40


# -- round trip: every row and every text back through the tool -------------------------------


@pytest.mark.parametrize("bare_cr", [False, True], ids=["cr-quoted", "cr-unquoted-as-source"])
def test_texts_survive_round_trip(head: pl.DataFrame, tmp_path: Path, bare_cr: bool) -> None:
    events, rejects = _through_tool(_write(head, tmp_path / "canonical.csv", bare_cr=bare_cr))
    assert rejects.height == 0, rejects.select("message_id", "problem").head(5)
    assert events.height == 5000
    back = dict(zip(events["message_id"], events["text"], strict=True))
    original = dict(zip(head["message_id"], head["text"], strict=True))
    assert back.keys() == original.keys()
    altered = [(m, original[m], back[m]) for m in original if back[m] != original[m]]
    assert not altered, f"{len(altered)} texts altered, e.g. {altered[:3]}"
    assert back[CR_TWEET] == CR_TEXT
    # Rows and their fields, not only texts, come back as written.
    mine = head.select(
        "message_id", "conversation", "role", "buyer", "shop", "agent",
        pl.col("_ts").dt.epoch("ms").alias("ms"),
    )  # fmt: skip
    theirs = events.select(
        "message_id", "conversation", "role", "buyer", "shop", "agent",
        pl.col("ts").dt.epoch("ms").alias("ms"),
    )  # fmt: skip
    assert theirs.sort("message_id").equals(mine.sort("message_id"))


def _cli() -> str:
    found = shutil.which("cservice-audit", path=os.path.dirname(sys.executable)) or shutil.which("cservice-audit")
    if found is None:
        pytest.skip("the cservice-audit console script is not installed")
    return found


@pytest.mark.parametrize("bare_cr", [False, True], ids=["cr-quoted", "cr-unquoted-as-source"])
def test_cli_reads_every_row(head: pl.DataFrame, tmp_path: Path, bare_cr: bool) -> None:
    data = _write(head, tmp_path / "twcs_canonical.csv", bare_cr=bare_cr)
    rejects_csv = tmp_path / "rejects.csv"
    done = subprocess.run(
        [
            _cli(), "audit", str(data), "--platform", "pinduoduo", "--format", "json",
            "--exit-zero", "--rejects", str(rejects_csv), "--input-tz", "UTC",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["input"]
    assert summary["rows_read"] == 5000
    assert summary["rows_used"] + summary["rows_rejected"] + summary["rows_duplicate"] == 5000
    assert summary["rows_rejected"] == 0, pl.read_csv(rejects_csv, infer_schema=False).head(5)
    assert summary["rows_duplicate"] == 0
    assert summary["rows_used"] == 5000
    assert pl.read_csv(rejects_csv, infer_schema=False).height == 0
