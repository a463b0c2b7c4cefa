"""What the human-readable formats show, as rows of text: shared by table and markdown.

Nothing here computes a number: every figure is a field of a metric or finding row,
formatted. Text from the input or a user's ruleset (names, ids, messages, file names)
enters rows through `one_line` here, so no control character or escape sequence reaches a
terminal; markdown escapes its markup on top. The scorecard shows, per rule, the period that contains the as-of day; every
failing period of any day is in the findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.sanitize import one_line

SHOP_TOTAL = "(shop total)"
STATUS_MARK = {"pass": "✓ pass", "fail": "✗ fail", "at_risk": "! at risk", "insufficient": "· too few"}


@dataclass
class Scorecard:
    code: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    statuses: list[str]


def header_lines(result: AuditResult, show_paths: bool = False) -> list[str]:
    """Human formats name files by their base name and leave out the history and baseline
    paths unless `show_paths` (`--show-paths`): a report is mailed and pasted around."""
    rs, inp = result.ruleset, result.input
    files = ", ".join(f["file"] if show_paths else PurePath(f["file"]).name for f in inp.files)
    lines = [
        f"ruleset {rs.platform} {rs.version} (effective {rs.effective}, {rs.origin})",
        f"input {files}: {inp.rows_read} rows read, {inp.rows_used} used, "
        f"{inp.rows_rejected} rejected, {inp.rows_duplicate} duplicate",
        f"as of {result.as_of or '-'} ({rs.timezone})",
    ]
    if result.options.agent:
        lines.append(f"agent {result.options.agent} only (shop totals kept)")
    if result.options.history:
        where = f" {result.options.history}" if show_paths else ""
        lines.append(f"history{where}: {result.history_days_written} shop-day(s) written")
    if result.options.baseline:
        where = f" {result.options.baseline}" if show_paths else ""
        lines.append(f"baseline{where}: {result.baseline_hidden} known finding(s) not shown (in the JSON, state known)")
    return [one_line(line) for line in lines]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s" if value >= 10 else f"{value:.1f}s"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value + 0.0:g}"


def _cells(check: str, row: dict) -> list[str]:
    waits = [_seconds(row["wait_mean"]), _seconds(row["wait_p50"]), _seconds(row["wait_p90"])]
    if check == "reply_rate":
        rate = "-" if row["value"] is None else f"{row['value'] * 100:.1f}%"
        return [str(row["denominator"]), _count(row["numerator"]), rate, *waits]
    if check == "average_wait":
        return [str(row["denominator"]), _seconds(row["numerator"]), _seconds(row["value"]), *waits]
    if check == "review_rate":
        rate = "-" if row["value"] is None else f"{row['value'] * 100:.1f}%"
        return [str(row["denominator"]), _count(row["numerator"]), rate]
    return [str(row["denominator"]), _count(row["numerator"]), _count(row["points"])]


_COLUMNS = {
    "reply_rate": ["counted", "on time", "rate", "mean", "p50", "p90"],
    "average_wait": ["counted", "total wait", "mean wait", "mean", "p50", "p90"],
    "long_no_reply": ["turns", "occurrences", "points"],
    "review_rate": ["counted", "hits", "rate"],
    "phrases": ["messages", "matches", "points"],
    "repeated_script": ["scripts", "repeated", "points"],
}


def _threshold(rule, value: float) -> str:
    check = rule.check
    if check == "review_rate":
        return ("min " if rule.params["measure"] == "good_rate" else "max ") + f"{value * 100:g}%"
    if check == "reply_rate":
        return f"min {value * 100:g}%"
    if check == "average_wait":
        return f"max {value:g} s"
    return f"max {value:g}"


def scorecards(result: AuditResult) -> list[Scorecard]:
    cards = []
    as_of = result.as_of
    for rule in result.ruleset.rules:
        if rule.check not in _COLUMNS or as_of is None:
            continue
        rows = result.metrics.filter(
            (pl.col("rule") == rule.code) & (pl.col("period_start") <= as_of) & (pl.col("period_end") >= as_of)
        )
        if rows.is_empty():
            continue
        first = rows.row(0, named=True)
        period = f"{first['period']} {first['period_start']}" + (
            f"..{first['period_end']}" if first["period_start"] != first["period_end"] else ""
        )
        many_shops = rows.get_column("shop").n_unique() > 1
        body, statuses = [], []
        for row in rows.iter_rows(named=True):
            who = row["agent"] if row["scope"] == "agent" else SHOP_TOTAL
            if many_shops:
                who = f"{row['shop']} / {who}"
            body.append([one_line(who), *_cells(rule.check, row), STATUS_MARK[row["status"]]])
            statuses.append(row["status"])
        cards.append(
            Scorecard(
                code=rule.code,
                title=one_line(f"{rule.code} {rule.title} · {period} · {_threshold(rule, first['threshold'])}"),
                columns=["agent", *_COLUMNS[rule.check], "status"],
                rows=body,
                statuses=statuses,
            )
        )
    return cards


def points_rows(result: AuditResult) -> tuple[list[str], list[list[str]]]:
    """Points in force on the as-of day: one row per agent and the shop, a column per rule."""
    if result.points.is_empty():
        return [], []
    rules = sorted(set(result.points.get_column("rule")), key=[r.code for r in result.ruleset.rules].index)
    table: dict[tuple[str, str | None], dict[str, float]] = {}
    for row in result.points.iter_rows(named=True):
        table.setdefault((row["shop"], row["agent"]), {})[row["rule"]] = row["points"]
    many_shops = len({shop for shop, _ in table}) > 1
    rows = []
    for (shop, agent), by_rule in sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][1] is None, kv[0][1] or "")):
        who = agent if agent is not None else SHOP_TOTAL
        rows.append([one_line(f"{shop} / {who}" if many_shops else who), *(_count(by_rule.get(r, 0.0)) for r in rules), _count(sum(by_rule.values()))])
    return ["agent", *map(one_line, rules), "total"], rows


def shown_findings(result: AuditResult) -> pl.DataFrame:
    """The findings a person is shown: the new ones (known ones are counted in the header)."""
    return result.findings.filter(pl.col("state") != "known")


def finding_rows(result: AuditResult) -> tuple[list[str], list[list[str]]]:
    """The findings as text rows; the last cell is the message, then the evidence text for
    findings about one message (text rules, long no-reply) or a rejected row."""
    columns = ["code", "severity", "agent", "conversation", "day", "time", "what happened"]
    findings = shown_findings(result).with_columns(pl.col("ts").dt.convert_time_zone(result.ruleset.timezone))
    # With more than one shop in the report, every agent is named with its shop (spec §11).
    many_shops = findings.get_column("shop").drop_nulls().n_unique() > 1
    rows = []
    for f in findings.iter_rows(named=True):
        day = f["day"] or f["period_start"]
        who = f["agent"] or (SHOP_TOTAL if f["scope"] == "shop" else "-")
        rows.append(
            [
                one_line(f["code"]),
                f["severity"],
                one_line(f"{f['shop']} / {who}" if many_shops and f["shop"] else who),
                one_line(f["conversation"] or "-"),
                str(day) if day else "-",
                f["ts"].strftime("%H:%M:%S") if f["ts"] else "-",
                # One line of message, then one line of evidence: the newline is the renderer's.
                one_line(f["message"]) + (f"\n{one_line(f['evidence'])}" if f["evidence"] and (f["conversation"] or f["match"] or f["code"].endswith("-D1")) else ""),
            ]
        )
    return columns, rows
