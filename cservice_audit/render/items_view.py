"""The drill-down and the needed-to-pass figures as rows of text, for the human formats.

Nothing here computes a figure: items are rows of `result.items` (drilldown.py) and needs are
the needed-to-pass columns of `result.metrics` (needs.py), formatted. Untrusted text (agents,
buyers, conversation ids) goes through the `clean` function the caller passes
(sanitize.one_line for a terminal, sanitize.markdown_safe for Markdown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.i18n import sentinel_name, t
from cservice_audit.render.names import in_shop, many_shops, report_cuts
from cservice_audit.sanitize import one_line

def _named(agent: str | None, lang: str, clean: Callable[[object], str]) -> str:
    return sentinel_name(agent, lang) or clean(agent)


DEFAULT_ITEMS = 5  # --items: the worst items shown per failing metric
COMPACT_DROPS = ("buyer", "reply")  # left out on a narrow terminal (the reply time is sent + wait)

ITEM_KEYS = ("agent", "conversation", "buyer", "sent", "wait", "reply")
NEEDS_KEYS = ("rule", "agent", "period", "so_far", "needs")


def labels(lang: str = "en") -> dict:
    """Every word these views print, from the message catalogue (data/messages.yaml, keys
    `drill.*`) in the reader's language."""
    return {
        "items_title": t("drill.items_title", lang),
        "item_columns": [t(f"drill.col.{k}", lang) for k in ITEM_KEYS],
        "shop_total": t("drill.shop_total", lang),
        "unanswered": t("drill.unanswered", lang),
        "more": t("drill.more", lang),
        "needs_title": t("drill.needs_title", lang),
        "needs_columns": [t(f"drill.needs_col.{k}", lang) for k in NEEDS_KEYS],
        "good": {k: t(f"drill.good.{k}", lang) for k in ("reply_rate", "good_rate", "attitude_share", "generic")},
        "needs_rate": t("drill.needs_rate", lang),
        "needs_rate_none": t("drill.needs_rate_none", lang),
        "needs_mean": t("drill.needs_mean", lang),
        "cannot_pass_rate": t("drill.cannot_pass_left", lang),
        "cannot_pass_mean": t("drill.cannot_pass_left", lang),
        "cannot_pass_count": t("drill.cannot_pass", lang),
        "items_since": t("drill.items_since", lang),
        "period_day": "{start}",
        "period_span": "{period} {start}..{end}",
        "period_short": {k: t(f"drill.period.{k}", lang) for k in ("natural_week", "natural_month", "rolling_30d", "day")},
        "period_names": {k: t(f"period.{k}", lang) for k in ("natural_week", "natural_month", "rolling_30d", "day")},
    }


LABELS = labels("en")  # the English words, for callers without a language (show)


@dataclass
class ItemTable:
    code: str
    title: str
    columns: list[str]
    rows: list[list[str]]


def wait_text(seconds: float | None, lang: str = "en") -> str:
    """`unanswered`, `42s`, `15m50s`, `2h03m`."""
    if seconds is None:
        return labels(lang)["unanswered"]
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _period(period: str, start, end, L: dict = LABELS) -> str:  # noqa: N803 - the labels
    if start == end:
        return L["period_day"].format(start=start)
    # The period's name in the reader's language (近30天), not its key (rolling_30d).
    return L["period_span"].format(period=L["period_names"].get(period, period), start=start, end=end)


def items_since(result: AuditResult) -> date | None:
    """The first day whose items this run has: its --date, else the later of --since and the
    input's first day. The history keeps day sums, not items (docs/metrics.md, drill-down), so
    a 30-day period over one night's export lists that night's items only."""
    if result.options.date is not None:
        return result.options.date
    first = result.input.first_ts
    if first is not None:
        first = first.astimezone(ZoneInfo(result.ruleset.timezone)).date() if first.tzinfo else first.date()
    return max((d for d in (result.options.since, first) if d is not None), default=None)


def _coverage(result: AuditResult) -> dict[tuple[str, object], int]:
    """(rule, period start) -> the most days with data any of its metrics has."""
    rows = result.metrics.group_by("rule", "period_start").agg(pl.col("coverage").max())
    return {(r, s): c for r, s, c in rows.iter_rows() if c is not None}


def _stored_before(since: date | None, start, so_far, coverage: int | None) -> bool:
    """Whether a period's figures count stored days before this input's first day: then its
    items, this input's only, cover less than its figures, and the title says from when.
    More days with data than the input can hold from `since` to the as-of day (`so_far`: a
    week's end is in the future on its Tuesday) means stored ones."""
    return since is not None and since > start and coverage is not None and coverage > (so_far - since).days + 1


def _period_ends(result: AuditResult) -> dict[tuple[str, object], object]:
    return {(r, s): e for r, s, e in result.metrics.select("rule", "period_start", "period_end").unique().iter_rows()}


def items_frame(result: AuditResult) -> pl.DataFrame:
    """All items, times in the ruleset's zone: for the items CSV and a workbook sheet."""
    tz = result.ruleset.timezone
    return result.items.with_columns(pl.col("ts", "reply_ts").dt.convert_time_zone(tz))


def item_tables(
    result: AuditResult,
    limit: int = DEFAULT_ITEMS,
    clean: Callable[[object], str] = one_line,
    compact: bool = False,
    lang: str = "en",
) -> list[ItemTable]:
    """Per rule and period: the `limit` worst items of each failing or at-risk metric (agents
    first, then the shop total), and how many more there are. `limit` 0 shows nothing.
    `compact` (a narrow terminal) leaves out buyer and reply time, so that the conversation
    id, which `show` takes, stays on one line."""
    if limit <= 0 or result.items.is_empty():
        return []
    L = labels(lang)  # noqa: N806 - the labels
    titles = {rule.code: rule.title for rule in result.ruleset.rules}
    ends = _period_ends(result)
    since = items_since(result)
    coverage = _coverage(result)
    # One table per rule and period, in ruleset order and then by day. The items come in
    # metric order (agents before the shop total), so grouping them as they come put a day
    # that only the shop total failed after all the days an agent failed.
    order = {rule.code: i for i, rule in enumerate(result.ruleset.rules)}
    items = (
        items_frame(result)
        .sort(pl.col("rule").replace_strict(order, default=len(order), return_dtype=pl.Int64), "period_start", maintain_order=True)
        .with_columns(
            pl.int_range(pl.len()).over("rule", "scope", "shop", "agent", "period_start").alias("_rank"),
            pl.len().over("rule", "scope", "shop", "agent", "period_start").alias("_count"),
        )
    )
    several = many_shops(result)
    cuts = report_cuts(result)
    tables: list[ItemTable] = []
    for (code, period, start), group in items.group_by("rule", "period", "period_start", maintain_order=True):
        end = ends.get((code, start), start)
        time_format = "%H:%M:%S" if start == end else "%m-%d %H:%M"
        rows: list[list[str]] = []
        for row in group.filter(pl.col("_rank") < limit).iter_rows(named=True):
            cut = cuts.get(row["shop"], "")
            if row["scope"] == "agent":
                who = _named(in_shop(row["agent"], cut), lang, clean)
            else:
                who = f"{L['shop_total']} {_named(in_shop(row['handled_by'], cut), lang, clean)}"
            if several:
                who = f"{clean(row['shop'])} / {who}"
            rows.append(
                [
                    who,
                    clean(row["conversation"]),
                    clean(row["buyer"]),
                    row["ts"].strftime(time_format),
                    wait_text(row["wait"], lang),
                    row["reply_ts"].strftime(time_format) if row["reply_ts"] else "-",
                ]
            )
            if row["_rank"] == limit - 1 and row["_count"] > limit:
                rows.append(["", L["more"].format(n=row["_count"] - limit), "", "", "", ""])
        columns = list(L["item_columns"])
        if compact:
            keep = [i for i, key in enumerate(ITEM_KEYS) if key not in COMPACT_DROPS]
            columns, rows = [columns[i] for i in keep], [[r[i] for i in keep] for r in rows]
        tables.append(
            ItemTable(
                code=code,
                title=L["items_title"].format(
                    code=code,
                    title=titles.get(code, ""),
                    limit=limit,
                    period=_period(period, start, end, L)
                    + (L["items_since"].format(day=since) if _stored_before(since, start, min(end, result.as_of or end), coverage.get((code, start))) else ""),
                ),
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


def _needs(rule, row: dict, L: dict = LABELS) -> str:  # noqa: N803 - the labels
    check = rule.check
    if check == "average_wait":  # a mean, no count of good items to name
        return needs_text(row, "", True, L)
    return needs_text(row, L["good"][rule.params.get("measure", check) if check == "review_rate" else check], False, L)


def needs_text(row: dict, good: str, mean: bool, L: dict = LABELS) -> str:  # noqa: N803 - the labels
    """What an at-risk metric row (needs.py columns) still needs, in words: `good` names what
    counts (及时回复), `mean` says the rule is about a mean wait, not a rate."""
    remaining, can_pass = row["expected_remaining"], row["can_pass"]
    if remaining is None:
        return L["cannot_pass_count"]
    if not can_pass:
        return L["cannot_pass_mean" if mean else "cannot_pass_rate"].format(remaining=remaining)
    if mean:
        return L["needs_mean"].format(mean=row["needed_mean_wait"], remaining=remaining)
    if row["needed_rate"] is None:
        return L["needs_rate_none"]
    return L["needs_rate"].format(needed=row["needed_good"], remaining=remaining, good=good, need_rate=row["needed_rate"])


def need_rows(
    result: AuditResult, clean: Callable[[object], str] = one_line, lang: str = "en"
) -> tuple[list[str], list[list[str]]]:
    """One row per at-risk metric: what it has so far and what the rest of its period needs."""
    L = labels(lang)  # noqa: N806 - the labels
    at_risk = result.metrics.filter((pl.col("status") == "at_risk") & pl.col("can_pass").is_not_null())
    if at_risk.is_empty():
        return [], []
    rules = {rule.code: rule for rule in result.ruleset.rules}
    several = many_shops(result)
    cuts = report_cuts(result)
    rows = []
    for row in at_risk.iter_rows(named=True):
        rule = rules[row["rule"]]
        who = _named(in_shop(row["agent"], cuts.get(row["shop"], "")), lang, clean) if row["scope"] == "agent" else L["shop_total"]
        if several:
            who = f"{clean(row['shop'])} / {who}"
        period = L["period_short"][row["period"]].format(start=row["period_start"], end=row["period_end"])
        rows.append([row["rule"], who, period, _so_far(rule.check, row), _needs(rule, row, L)])
    return list(L["needs_columns"]), rows
