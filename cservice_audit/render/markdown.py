"""A Markdown report for pasting into a ticket or wiki: the summary, the scorecards, the findings.

Untrusted text is escaped by views (target "markdown"); only a cell's line breaks are
turned into spaces here.
"""

from __future__ import annotations

from typing import Any

from cservice_audit.audit import AuditResult
from cservice_audit.i18n import t
from cservice_audit.render.items_view import DEFAULT_ITEMS, item_tables, labels, need_rows
from cservice_audit.render.views import (
    MARK,
    Summary,
    SummaryRow,
    finding_rows,
    header_lines,
    no_findings_line,
    reader_note_lines,
    points_rows,
    scorecards,
    shown,
    shown_findings,
    summary,
)
from cservice_audit.sanitize import markdown_safe

TARGET = "markdown"


def _cell(cell: str) -> str:
    return cell.replace("\n", " ")


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(c) or " " for c in row) + " |" for row in rows]
    return lines


def summary_markdown(view: Summary) -> list[str]:
    lang = view.lang
    out: list[str] = []
    for shop in view.shops:
        out += [f"## {shop.title}", "", f"**{shop.failed}** · {shop.counts}", ""]
        if shop.names_note:
            out += [shop.names_note, ""]
        columns = [t("col.agent", lang), *shop.heads, *([t("summary.points", lang)] if view.points else [])]

        def row(r: SummaryRow, name: str | None = None) -> list[str]:
            return [name or r.name, *(MARK[m].strip() for m in r.marks), *([r.points] if view.points else [])]

        rows = [row(r) for r in shop.agents]
        if shop.others:
            # The robot and unassigned turns under their own heading row: not agents to coach.
            rows.append([f"*{t('summary.others', lang)}*", *([""] * (len(columns) - 1))])
            rows += [row(r) for r in shop.others]
        if shop.total:
            rows.append(row(shop.total, f"**{shop.total.name}**"))
        out += _table(columns, rows)
        if shop.passing:
            out += ["", shop.passing]
        if shop.tiers:
            out += ["", t("summary.tiers", lang), "", *(f"- {tier}" for tier in shop.tiers)]
        out.append("")
    if not view.shops:
        out.append(t("summary.no_data", lang))
    else:
        out.append(view.legend + (f" · {view.columns_note}" if view.columns_note else ""))
    out += ["", f"**{view.closing}**"]
    return out


def render(
    result: AuditResult,
    *,
    summary_only: bool = False,
    lang: str = "en",
    quiet: bool = False,
    show_paths: bool = False,
    items: int = DEFAULT_ITEMS,
    **_: Any,
) -> str:
    title = t("report.title", lang, name=shown(result.ruleset.name, TARGET), platform=result.ruleset.platform)
    out = [f"# {title}", ""]
    if not quiet:  # -q: findings only, as in the table format
        out += [f"- {line}" for line in header_lines(result, lang, TARGET, show_paths=show_paths)]
        out += [f"- **{line}**" for line in reader_note_lines(result, lang, TARGET)]
        out += ["", *summary_markdown(summary(result, lang, TARGET))]
    if summary_only:
        return "\n".join(out) + "\n"
    if not quiet:
        for card in scorecards(result, lang, TARGET):
            out += ["", f"## {card.title}", "", *_table(card.columns, card.rows)]
        columns, rows = points_rows(result, lang, TARGET)
        if rows:
            out += ["", f"## {t('section.points', lang, day=result.as_of)}", "", *_table(columns, rows)]
        out += _drilldown(result, items, lang)
    columns, rows = finding_rows(result, lang, TARGET)
    out += ["", f"## {t('section.findings', lang, n=shown_findings(result).height)}", ""]
    out += _table(columns, rows) if rows else [no_findings_line(result, lang)]
    return "\n".join(out) + "\n"


def _drilldown(result: AuditResult, limit: int, lang: str) -> list[str]:
    """What at-risk periods still need, then the worst items of each failing metric. The
    cells are already Markdown-safe (markdown_safe), so they are joined as they are."""

    def table(columns: list[str], rows: list[list[str]]) -> list[str]:
        return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns), *("| " + " | ".join(r) + " |" for r in rows)]

    out: list[str] = []
    columns, rows = need_rows(result, clean=markdown_safe, lang=lang)
    if rows:
        out += ["", f"## {labels(lang)['needs_title']}", "", *table(columns, rows)]
    for card in item_tables(result, limit, clean=markdown_safe, lang=lang):
        out += ["", f"## {markdown_safe(card.title)}", "", *table(card.columns, card.rows)]
    return out
