"""Property tests of the drill-down (late items) and of what an at-risk period still needs.

Late items: the product's `result.items` must be exactly the late and unanswered items of
the plain-Python reference in test_waits_property.py (its waits, turns and attribution),
for every unit, both scopes, reply rates and average waits, kept only where the metric
fails, and worst first within each metric.

Needed to pass: random partial weeks and months of on-time and late turns and of reviews
go through the whole audit; the needed-to-pass columns must equal a brute-force search
in exact fractions (the smallest number of good items that makes the period pass).
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import polars as pl
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cservice_audit.audit import AuditOptions, run_audit
from cservice_audit.ruleset import load_file
from test_waits_property import (
    PHASES,
    ROLE_SETS,
    UNIT_CODES,
    UNITS,
    RefMessage,
    Transcript,
    clock,
    reference_waits,
    thresholds_for,
    transcripts,
    windows_for,
)

FIXED_NOW = datetime(2026, 12, 31, 2, 0, tzinfo=timezone.utc)


def _audit(rules: list[dict], csv_text: str, exempt: list[date] | None = None, **options):
    """run_audit on `csv_text` with a ruleset of `rules` (extending pinduoduo, T- codes only)."""
    data = {"extends": "pinduoduo", "rules": rules}
    if exempt:
        data["exempt_dates"] = [d.isoformat() for d in exempt]
    with tempfile.TemporaryDirectory() as tmp:
        ruleset_path = Path(tmp) / "ruleset.yaml"
        ruleset_path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
        ruleset = load_file(ruleset_path).selected(["T-"], None)
        events = Path(tmp) / "events.csv"
        events.write_text(csv_text, "utf-8")
        result = run_audit([str(events)], ruleset, AuditOptions(**options), generated_at=FIXED_NOW, stdin=io.BytesIO())
    assert result.input.rows_rejected == 0
    return result


# --------------------------------------------------------------------------------------
# Late items against the reference
# --------------------------------------------------------------------------------------


def reference_items(
    messages: dict[str, RefMessage], unit: str, window: tuple[str, str]
) -> list[tuple[str, str, str | None, date, RefMessage]]:
    """Every counted item as (scope, shop, agent, day, the message that stands for it):
    a message, a turn's first message, a conversation's first message, or a buyer-day's
    worst message (the first unanswered, else the longest wait; then the earliest)."""
    start, end = clock(window[0]), clock(window[1])
    counted = [m for m in messages.values() if start <= m.ts.hour * 3600 + m.ts.minute * 60 + m.ts.second < end]
    if unit != "buyer_day":
        chosen = {
            "message": counted,
            "turn": [m for m in counted if m.turn_start],
            "conversation": [m for m in counted if m.conversation_start],
        }[unit]
        out = []
        for m in chosen:
            out.append(("shop", m.shop, None, m.ts.date(), m))
            out.append(("agent", m.shop, m.agent, m.ts.date(), m))
        return out

    def worst(ms: list[RefMessage]) -> RefMessage:
        return sorted(ms, key=lambda m: (m.wait is not None, -(m.wait or 0), m.ts, m.conversation))[0]

    shop_days: dict[tuple, list[RefMessage]] = {}
    agent_days: dict[tuple, list[RefMessage]] = {}
    for m in counted:
        shop_days.setdefault((m.shop, m.buyer, m.ts.date()), []).append(m)
        agent_days.setdefault((m.shop, m.buyer, m.ts.date(), m.agent), []).append(m)
    out = [("shop", shop, None, day, worst(ms)) for (shop, _b, day), ms in shop_days.items()]
    out += [("agent", shop, agent, day, worst(ms)) for (shop, _b, day, agent), ms in agent_days.items()]
    return out


def expected_late_items(transcript: Transcript, rules: list[dict]) -> list[tuple]:
    """The reference drill-down: for each rule, the late items of the metrics that fail."""
    expected = []
    for rule in rules:
        params = rule["params"]
        messages = reference_waits(transcript, tuple(params["reply_roles"]))
        items = reference_items(messages, params["unit"], (params["window"]["start"], params["window"]["end"]))
        metrics: dict[tuple, list[RefMessage]] = {}
        for scope, shop, agent, day, m in items:
            metrics.setdefault((scope, shop, agent, day), []).append(m)
        for (scope, shop, agent, day), ms in metrics.items():
            if rule["check"] == "reply_rate":
                threshold = params["threshold"]
                late = [m for m in ms if m.wait is None or m.wait > threshold]
                failing = (len(ms) - len(late)) / len(ms) < params["min_rate"]
            else:
                cap, limit = params["cap"], params["max_seconds"]
                if cap is None:
                    counted_waits = [m.wait for m in ms if m.wait is not None]
                    late = [m for m in ms if m.wait is not None and m.wait > limit]
                else:
                    counted_waits = [cap if m.wait is None else min(m.wait, cap) for m in ms]
                    late = [m for m in ms if m.wait is None or m.wait > limit]
                failing = bool(counted_waits) and sum(counted_waits) / len(counted_waits) > limit
            if failing:
                for m in late:
                    reply = None if m.wait is None else m.ts + timedelta(seconds=m.wait)
                    expected.append((rule["code"], scope, shop, agent, day, m.conversation, m.buyer, m.agent, m.ts, m.wait, reply))
    return expected


def _naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None)


def drill_rules(threshold: int, window: tuple[str, str], min_rate: float, cap: int | None) -> list[dict]:
    rules = []
    for unit in UNITS:
        for roles, reply_roles in ROLE_SETS.items():
            rules.append(
                {
                    "code": f"T-{UNIT_CODES[unit]}{roles}",
                    "name": f"{unit}-{roles}",
                    "check": "reply_rate",
                    "confidence": "assumed",
                    "params": {
                        "unit": unit, "threshold": threshold, "min_rate": min_rate, "reply_roles": list(reply_roles),
                        "window": {"start": window[0], "end": window[1]},
                    },
                }
            )
    for unit in ("message", "turn", "conversation"):
        rules.append(
            {
                "code": f"T-W{UNIT_CODES[unit]}",
                "name": f"wait-{unit}",
                "check": "average_wait",
                "confidence": "assumed",
                "params": {
                    "unit": unit, "max_seconds": threshold, "cap": cap, "reply_roles": ["agent"],
                    "window": {"start": window[0], "end": window[1]},
                },
            }
        )
    return rules


@settings(max_examples=40, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=transcripts(), data=st.data())
def test_late_items_match_reference(transcript: Transcript, data: st.DataObject) -> None:
    """result.items = the reference's late items of failing metrics, worst first per metric."""
    threshold = data.draw(thresholds_for(transcript), label="threshold")
    window = data.draw(windows_for(transcript), label="window")
    min_rate = data.draw(st.sampled_from([0.5, 0.8, 1.0]), label="min_rate")
    cap = data.draw(st.sampled_from([None, 5, 30]), label="cap")
    rules = drill_rules(threshold, window, min_rate, cap)
    result = _audit(rules, transcript.csv_text())

    got = [
        (r["rule"], r["scope"], r["shop"], r["agent"], r["period_start"], r["conversation"], r["buyer"],
         r["handled_by"], _naive(r["ts"]), r["wait"], _naive(r["reply_ts"]))
        for r in result.items.iter_rows(named=True)
    ]
    want = expected_late_items(transcript, rules)
    assert sorted(got, key=repr) == sorted(want, key=repr), (
        f"threshold={threshold} window={window} min_rate={min_rate} cap={cap}{transcript.show()}"
    )
    assert set(result.items.get_column("status")) <= {"fail"}
    # Worst first within each metric: unanswered, then the longest wait, then the earliest.
    metrics: dict[tuple, list[tuple]] = {}
    for row in got:
        metrics.setdefault(row[:5], []).append(row)
    for rows in metrics.values():
        keys = [(r[9] is not None, -(r[9] or 0), r[8]) for r in rows]
        assert keys == sorted(keys), rows


# --------------------------------------------------------------------------------------
# What the period still needs, over random partial weeks and months
# --------------------------------------------------------------------------------------

WEEK = date(2026, 11, 16)  # a Monday; its month is November 2026
GOOD_REASON, BAD_REASON = "物流慢", "服务态度差"


@st.composite
def partial_periods(draw):
    """Days of one period up to a random as-of day before its end, each with a few turns
    (on time or late) and reviews, for one agent."""
    period = draw(st.sampled_from(["natural_week", "natural_month"]))
    first = WEEK if period == "natural_week" else date(2026, 11, 1)
    last = WEEK + timedelta(days=6) if period == "natural_week" else date(2026, 11, 30)
    as_of = first + timedelta(days=draw(st.integers(0, (last - first).days - 1)))
    days = []
    for i in range((as_of - first).days + 1):
        day = first + timedelta(days=i)
        turns = draw(st.lists(st.sampled_from([10, 30, 59, 60, 61, 200, 900, None]), max_size=6))
        reviews = draw(st.lists(st.sampled_from(["satisfied", "neutral-good", "neutral-bad", "disappointed-bad"]), max_size=5))
        days.append((day, turns, reviews))
    exempt = draw(st.lists(st.sampled_from([first + timedelta(days=i) for i in range((last - first).days + 1)]), max_size=2, unique=True))
    return period, as_of, first, last, days, sorted(exempt)


def period_csv(days) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["ts", "shop", "buyer", "conversation", "role", "agent", "text", "rating", "reason"])
    n = 0
    for day, turns, reviews in days:
        base = datetime.combine(day, datetime.min.time()) + timedelta(hours=10)
        for wait in turns:
            n += 1
            t = base + timedelta(minutes=30 * n % 600)
            writer.writerow([t.strftime("%Y-%m-%d %H:%M:%S"), "s1", f"b{n}", f"c{n}", "buyer", "", f"q{n}", "", ""])
            if wait is not None:
                r = t + timedelta(seconds=wait)
                writer.writerow([r.strftime("%Y-%m-%d %H:%M:%S"), "s1", f"b{n}", f"c{n}", "agent", "A", f"a{n}", "", ""])
        for kind in reviews:
            n += 1
            t = base + timedelta(minutes=30 * n % 600, seconds=7)
            rating, _, blame = kind.partition("-")
            reason = BAD_REASON if blame == "bad" else GOOD_REASON if blame else ""
            writer.writerow([t.strftime("%Y-%m-%d %H:%M:%S"), "s1", f"b{n}", f"c{n}", "review", "A", "", rating, reason])
    return out.getvalue()


def days_with_data(days, exempt) -> int:
    """The days the shop has data on, from the drawn days: any turn or review, whichever rule
    counts it (a day of reviews only is a day of the shop's volume for its reply rules too);
    exempt days count for nothing."""
    return sum(1 for day, turns, reviews in days if day not in exempt and (turns or reviews))


def reference_needs(kind: str, k: float, n: int, limit: float, elapsed: int, remaining: int, covered: int | None = None) -> dict:
    """Brute force in exact fractions: the remaining days bring R = n·D/V items (rounded half
    up), V the days the shop's data covers so far (at most E; E when unknown); the smallest
    number of good ones among them that makes the period pass."""
    seen = min(covered, elapsed) if covered else elapsed
    expected = math.floor(Fraction(n * remaining, seen) + Fraction(1, 2)) if seen else 0
    total = n + expected
    if kind == "max_mean":
        mean = (Fraction(str(limit)) * total - Fraction(k).limit_denominator(1000)) / expected if expected else None
        return {"expected_remaining": expected, "needed_mean_wait": mean, "can_pass": mean is not None and mean >= 0}
    goal = Fraction(str(limit))

    def passes(good_later: int) -> bool:
        if kind == "min_rate":
            return Fraction(int(k) + good_later, total) >= goal
        return Fraction(int(k) + (expected - good_later), total) <= goal  # the rest blame attitude

    if kind == "min_rate":
        needed = next(x for x in range(0, 2 * total + 2) if passes(x))
    else:
        # With more good items than R the share only falls further (more items, no hits).
        needed = next((x for x in range(0, expected + 1) if passes(x)), None)
        if needed is None:
            # Not even R good ones pass: as many more as the hits over the limit need.
            hits_allowed = math.floor(goal * total - int(k))
            needed = expected - hits_allowed
    return {
        "expected_remaining": expected,
        "needed_good": needed,
        "needed_rate": Fraction(needed, expected) if expected else None,
        "can_pass": needed <= expected,
    }


def needs_rules(period: str, min_rate: float, max_seconds: int, cap: int | None, max_rate: float) -> list[dict]:
    common = {"period": period, "scopes": ["agent"], "window": {"start": "00:00", "end": "24:00"}}
    return [
        {"code": "T-R", "name": "rate", "check": "reply_rate", "confidence": "assumed",
         "params": {"unit": "turn", "threshold": 60, "min_rate": min_rate, **common}},
        {"code": "T-A", "name": "mean", "check": "average_wait", "confidence": "assumed",
         "params": {"unit": "turn", "max_seconds": max_seconds, "cap": cap, **common}},
        {"code": "T-G", "name": "good", "check": "review_rate", "confidence": "assumed",
         "params": {"measure": "good_rate", "min_rate": min_rate, "human_only": False, **common}},
        {"code": "T-B", "name": "attitude", "check": "review_rate", "confidence": "assumed",
         "params": {"measure": "attitude_share", "max_rate": max_rate, "reasons": [BAD_REASON], "human_only": False, **common}},
    ]


@settings(max_examples=60, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=partial_periods(),
    min_rate=st.sampled_from([0.5, 0.7, 0.8, 0.95, 1.0]),
    max_seconds=st.sampled_from([30, 60, 120]),
    cap=st.sampled_from([None, 600]),
    max_rate=st.sampled_from([0.0, 0.06, 0.3]),
)
def test_needs_match_brute_force(drawn, min_rate, max_seconds, cap, max_rate) -> None:
    period, as_of, first, last, days, exempt = drawn
    # An input without rows is exit 2 (spec §10), not a verdict: nothing to forecast.
    assume(any(any(parts) for _, *parts in days))
    result = _audit(needs_rules(period, min_rate, max_seconds, cap, max_rate), period_csv(days), exempt, until=as_of)
    kinds = {"T-R": ("min_rate", min_rate), "T-A": ("max_mean", max_seconds), "T-G": ("min_rate", min_rate), "T-B": ("max_rate", max_rate)}
    elapsed = sum(1 for i in range((as_of - first).days + 1) if first + timedelta(days=i) not in exempt)
    remaining = sum(1 for i in range(1, (last - as_of).days + 1) if as_of + timedelta(days=i) not in exempt)
    covered = days_with_data(days, exempt)
    context = f"{period} as of {as_of}, exempt {exempt}, days {days}"
    for row in result.metrics.iter_rows(named=True):
        assert row["period_end"] == last and not row["complete"], context
        if row["status"] != "at_risk":
            assert all(row[c] is None for c in ("expected_remaining", "needed_good", "needed_rate", "needed_mean_wait", "can_pass")), row
            continue
        kind, limit = kinds[row["rule"]]
        want = reference_needs(kind, row["numerator"], row["denominator"], limit, elapsed, remaining, covered)
        figures = f"k={row['numerator']} n={row['denominator']} E={elapsed} C={covered} D={remaining}"
        where = f"{row['rule']} {figures}: {row} vs {want}; {context}"
        assert row["expected_remaining"] == want["expected_remaining"], where
        assert row["can_pass"] == want["can_pass"], where
        if kind == "max_mean":
            if want["needed_mean_wait"] is None:
                assert row["needed_mean_wait"] is None, where
            else:
                assert math.isclose(row["needed_mean_wait"], float(want["needed_mean_wait"]), rel_tol=1e-9, abs_tol=1e-6), where
        else:
            assert row["needed_good"] == want["needed_good"], where
            if want["needed_rate"] is None:
                assert row["needed_rate"] is None, where
            else:
                assert math.isclose(row["needed_rate"], float(want["needed_rate"]), rel_tol=1e-12), where


def test_needs_use_the_days_with_data_when_the_data_starts_mid_period() -> None:
    """A month whose data starts on the 23rd (a first run without history), judged on the
    26th: the volume so far is per day of data (4), not per calendar day (26), so the last 4
    days bring about as many items as the first 4 did. Per calendar day A's 1 attitude review
    of 9 looked lost (≈1 more, 1/10 > 6%); at the volume seen, 9 more come and 1/18 passes.
    B had reviews on one of the shop's 4 days: a quiet agent, not a busy one (2 more, not 8)."""
    days = [
        (date(2026, 11, 23), [10], ["disappointed-bad", "neutral-good", "neutral-good"]),
        (date(2026, 11, 24), [10], ["neutral-good", "neutral-good"]),
        (date(2026, 11, 25), [10], ["neutral-good", "neutral-good"]),
        (date(2026, 11, 26), [10], ["neutral-good", "neutral-good"]),
    ]
    text = period_csv(days) + "".join(
        f"2026-11-24 15:0{i}:00,s1,bb{i},cb{i},review,B,,{rating},{reason}\n"
        for i, (rating, reason) in enumerate([("disappointed", BAD_REASON), ("neutral", GOOD_REASON)])
    )
    result = _audit(needs_rules("natural_month", 0.8, 60, None, 0.06), text, until=date(2026, 11, 26))
    rows = {row["agent"]: row for row in result.metrics.filter(pl.col("rule") == "T-B").iter_rows(named=True)}
    a, b = rows["A"], rows["B"]
    assert (a["numerator"], a["denominator"], a["coverage"], a["status"]) == (1, 9, 4, "at_risk")
    assert (a["expected_remaining"], a["needed_good"], a["can_pass"]) == (9, 9, True)
    assert a["needed_rate"] == 1.0
    assert (b["numerator"], b["denominator"], b["coverage"], b["status"]) == (1, 2, 1, "at_risk")
    assert (b["expected_remaining"], b["needed_good"], b["can_pass"]) == (2, 3, False)


def test_needs_fall_back_to_calendar_days_without_coverage() -> None:
    """A metric row without a coverage figure (null, or 0) is forecast per calendar day elapsed;
    a coverage above the days elapsed (a stored day since made exempt) counts as those days."""
    from cservice_audit.needs import needs
    from cservice_audit.schema import METRIC_SCHEMA

    goal = pl.DataFrame([("X", "min_rate", 4, 5, 0.8)], schema=["rule", "_kind", "_p", "_q", "_limit"], orient="row")
    base = {c: None for c in METRIC_SCHEMA} | {
        "rule": "X", "scope": "shop", "period": "natural_week", "period_start": date(2026, 11, 16),
        "period_end": date(2026, 11, 22), "complete": False, "numerator": 6.0, "denominator": 10, "status": "at_risk",
    }  # fmt: skip
    rows = [base | {"shop": "none", "coverage": None}, base | {"shop": "zero", "coverage": 0}, base | {"shop": "two", "coverage": 2},
            base | {"shop": "nine", "coverage": 9}]  # fmt: skip
    out = needs(pl.DataFrame(rows, schema=METRIC_SCHEMA), goal, date(2026, 11, 20))  # E = 5, D = 2
    got = {r["shop"]: (r["expected_remaining"], r["needed_good"]) for r in out.iter_rows(named=True)}
    # R = 10·2/5 = 4: (6 + x)/14 ≥ 4/5 needs x = 6 > 4; with 2 days of data R = 10, x = 10.
    assert got == {"none": (4, 6), "zero": (4, 6), "two": (10, 10), "nine": (4, 6)}


def test_failing_items_keep_their_schema_when_nothing_fails() -> None:
    """No item, or items of passing metrics only: an empty frame of the item schema, in memory
    and spilled alike (the in-memory road once typed `status` from the empty metric table,
    UInt32, and the partition property test found the two roads differ)."""
    import polars as pl

    from cservice_audit.drilldown import failing_items
    from cservice_audit.ruleset import load_platform
    from cservice_audit.schema import ITEM_SCHEMA, METRIC_SCHEMA

    ruleset = load_platform("pinduoduo")
    item = pl.DataFrame(
        {"rule": ["PDD-R3"], "scope": ["agent"], "shop": ["甲店"], "agent": ["a1"], "period": ["day"], "period_start": [date(2026, 11, 2)],
         "status": [None], "conversation": ["c1"], "buyer": ["b1"], "handled_by": ["a1"], "ts": [datetime(2026, 11, 2, 1, tzinfo=timezone.utc)],
         "wait": [400.0], "reply_ts": [datetime(2026, 11, 2, 1, 7, tzinfo=timezone.utc)]},
        schema=ITEM_SCHEMA,
    )
    passing = pl.DataFrame(schema=METRIC_SCHEMA)
    for items in ([], [item], [item.lazy()]):
        got = failing_items(items, passing, ruleset)
        assert got.height == 0 and got.schema == pl.Schema(ITEM_SCHEMA), got.schema
