"""The drill-down and the needed-to-pass figures as rows of text, for the human formats.

Nothing here computes a figure: items are rows of `result.items` (drilldown.py) and needs are
the needed-to-pass columns of `result.metrics` (needs.py), formatted. Untrusted text (agents,
buyers, conversation ids) goes through the `clean` function the caller passes
(sanitize.one_line for a terminal, sanitize.markdown_safe for Markdown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.sanitize import one_line

DEFAULT_ITEMS = 5  # --items: the worst items shown per failing metric
COMPACT_DROPS = ("buyer", "reply")  # left out on a narrow terminal (the reply time is sent + wait)

# Every word these views print, in one place (the message catalogue can take them over).
LABELS = {
    "items_title": "{code} {title} · late and unanswered, {limit} worst each · {period} (all: --items-csv FILE)",
    "item_columns": ["agent", "conversation", "buyer", "sent", "wait", "reply"],
    "shop_total": "(shop total)",
    "unanswered": "unanswered",
    "more": "+{n} more",
    "needs_title": "What the period still needs",
    "needs_columns": ["rule", "agent", "period", "so far", "still needs"],
    "good": {"reply_rate": "on time", "good_rate": "satisfied", "attitude_share": "not about attitude"},
    "needs_rate": "{needed} of next ≈{remaining} {good} ({need_rate:.0%})",
    "needs_rate_none": "no more items expected",
    "needs_mean": "mean ≤ {mean:.0f}s over next ≈{remaining}",
    "cannot_pass_rate": "cannot pass (≈{remaining} left)",
    "cannot_pass_mean": "cannot pass (≈{remaining} left)",
    "cannot_pass_count": "cannot pass",
    "period_day": "{start}",
    "period_span": "{period} {start}..{end}",
    "period_short": {"natural_week": "week {start:%m-%d}..{end:%m-%d}", "natural_month": "month {start:%Y-%m}", "rolling_30d": "30d {start:%m-%d}..{end:%m-%d}", "day": "{start}"},
}


@dataclass
class ItemTable:
    code: str
    title: str
    columns: list[str]
    rows: list[list[str]]


def wait_text(seconds: float | None) -> str:
    """`unanswered`, `42s`, `15m50s`, `2h03m`."""
    if seconds is None:
        return LABELS["unanswered"]
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _period(period: str, start, end) -> str:
    return LABELS["period_day"].format(start=start) if start == end else LABELS["period_span"].format(period=period, start=start, end=end)


def _period_ends(result: AuditResult) -> dict[tuple[str, object], object]:
    return {(r, s): e for r, s, e in result.metrics.select("rule", "period_start", "period_end").unique().iter_rows()}


def items_frame(result: AuditResult) -> pl.DataFrame:
    """All items, times in the ruleset's zone: for the items CSV and a workbook sheet."""
    tz = result.ruleset.timezone
    return result.items.with_columns(pl.col("ts", "reply_ts").dt.convert_time_zone(tz))


def item_tables(
    result: AuditResult, limit: int = DEFAULT_ITEMS, clean: Callable[[object], str] = one_line, compact: bool = False
) -> list[ItemTable]:
    """Per rule and period: the `limit` worst items of each failing or at-risk metric (agents
    first, then the shop total), and how many more there are. `limit` 0 shows nothing.
    `compact` (a narrow terminal) leaves out buyer and reply time, so that the conversation
    id, which `show` takes, stays on one line."""
    if limit <= 0 or result.items.is_empty():
        return []
    titles = {rule.code: rule.title for rule in result.ruleset.rules}
    ends = _period_ends(result)
    items = items_frame(result).with_columns(
        pl.int_range(pl.len()).over("rule", "scope", "shop", "agent", "period_start").alias("_rank"),
        pl.len().over("rule", "scope", "shop", "agent", "period_start").alias("_count"),
    )
    many_shops = items.get_column("shop").n_unique() > 1
    tables: list[ItemTable] = []
    for (code, period, start), group in items.group_by("rule", "period", "period_start", maintain_order=True):
        end = ends.get((code, start), start)
        time_format = "%H:%M:%S" if start == end else "%m-%d %H:%M"
        rows: list[list[str]] = []
        for row in group.filter(pl.col("_rank") < limit).iter_rows(named=True):
            if row["scope"] == "agent":
                who = clean(row["agent"])
            else:
                who = f"{LABELS['shop_total']} {clean(row['handled_by'])}"
            if many_shops:
                who = f"{clean(row['shop'])} / {who}"
            rows.append(
                [
                    who,
                    clean(row["conversation"]),
                    clean(row["buyer"]),
                    row["ts"].strftime(time_format),
                    wait_text(row["wait"]),
                    row["reply_ts"].strftime(time_format) if row["reply_ts"] else "-",
                ]
            )
            if row["_rank"] == limit - 1 and row["_count"] > limit:
                rows.append(["", LABELS["more"].format(n=row["_count"] - limit), "", "", "", ""])
        columns = list(LABELS["item_columns"])
        if compact:
            keep = [i for i, name in enumerate(LABELS["item_columns"]) if name not in COMPACT_DROPS]
            columns, rows = [columns[i] for i in keep], [[r[i] for i in keep] for r in rows]
        tables.append(
            ItemTable(
                code=code,
                title=LABELS["items_title"].format(code=code, title=titles.get(code, ""), limit=limit, period=_period(period, start, end)),
                columns=columns,
                rows=rows,
            )
        )
    return tables


def _so_far(check: str, row: dict) -> str:
    if check == "average_wait":
        return f"{row['value']:.1f}s ({row['denominator']})" if row["value"] is not None else "-"
    if row["value"] is None:
        return "-"
    if check in ("reply_rate", "review_rate"):
        return f"{row['value'] * 100:.1f}% ({row['numerator']:g}/{row['denominator']}) vs {row['threshold'] * 100:g}%"
    return f"{row['numerator']:g}"


def _needs(rule, row: dict) -> str:
    remaining, can_pass = row["expected_remaining"], row["can_pass"]
    check = rule.check
    if remaining is None:
        return LABELS["cannot_pass_count"]
    if not can_pass:
        return LABELS["cannot_pass_mean" if check == "average_wait" else "cannot_pass_rate"].format(remaining=remaining)
    if check == "average_wait":
        return LABELS["needs_mean"].format(mean=row["needed_mean_wait"], remaining=remaining)
    if row["needed_rate"] is None:
        return LABELS["needs_rate_none"]
    good = LABELS["good"][rule.params.get("measure", check) if check == "review_rate" else check]
    return LABELS["needs_rate"].format(needed=row["needed_good"], remaining=remaining, good=good, need_rate=row["needed_rate"])


def need_rows(result: AuditResult, clean: Callable[[object], str] = one_line) -> tuple[list[str], list[list[str]]]:
    """One row per at-risk metric: what it has so far and what the rest of its period needs."""
    at_risk = result.metrics.filter((pl.col("status") == "at_risk") & pl.col("can_pass").is_not_null())
    if at_risk.is_empty():
        return [], []
    rules = {rule.code: rule for rule in result.ruleset.rules}
    many_shops = result.metrics.get_column("shop").n_unique() > 1
    rows = []
    for row in at_risk.iter_rows(named=True):
        rule = rules[row["rule"]]
        who = clean(row["agent"]) if row["scope"] == "agent" else LABELS["shop_total"]
        if many_shops:
            who = f"{clean(row['shop'])} / {who}"
        period = LABELS["period_short"][row["period"]].format(start=row["period_start"], end=row["period_end"])
        rows.append([row["rule"], who, period, _so_far(rule.check, row), _needs(rule, row)])
    return list(LABELS["needs_columns"]), rows
