"""A Markdown report: the scorecard and the findings, for pasting into a ticket or wiki."""

from __future__ import annotations

from typing import Any

from cservice_audit.audit import AuditResult
from cservice_audit.sanitize import markdown_safe
from cservice_audit.render.items_view import DEFAULT_ITEMS, LABELS, item_tables, need_rows
from cservice_audit.render.views import finding_rows, header_lines, points_rows, scorecards


def _escape(cell: str) -> str:
    # No links, images, raw HTML or emphasis from the data: every markup character escaped.
    return markdown_safe(cell.replace("\n", " "))


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]
    return lines


def render(
    result: AuditResult, *, quiet: bool = False, show_paths: bool = False, items: int = DEFAULT_ITEMS, **_: Any
) -> str:
    out = [f"# cservice-audit: {_escape(result.ruleset.name)} ({_escape(result.ruleset.platform)})"]
    if not quiet:  # -q: findings only, as in the table format
        out += ["", *(f"- {_escape(line)}" for line in header_lines(result, show_paths))]
        for card in scorecards(result):
            out += ["", f"## {_escape(card.title)}", "", *_table([_escape(c) for c in card.columns], card.rows)]
        columns, rows = points_rows(result)
        if rows:
            out += ["", f"## Points in force on {result.as_of}", "", *_table([_escape(c) for c in columns], rows)]
        out += _drilldown(result, items)
    columns, rows = finding_rows(result)
    out += ["", f"## Findings ({len(rows)})", ""]
    out += _table(columns, rows) if rows else ["No findings."]
    return "\n".join(out) + "\n"


def _drilldown(result: AuditResult, limit: int) -> list[str]:
    """What at-risk periods still need, then the worst items of each failing metric. The
    cells are already Markdown-safe (markdown_safe), so they are joined as they are."""

    def table(columns: list[str], rows: list[list[str]]) -> list[str]:
        return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns), *("| " + " | ".join(r) + " |" for r in rows)]

    out: list[str] = []
    columns, rows = need_rows(result, clean=markdown_safe)
    if rows:
        out += ["", f"## {LABELS['needs_title']}", "", *table(columns, rows)]
    for card in item_tables(result, limit, clean=markdown_safe):
        out += ["", f"## {markdown_safe(card.title)}", "", *table(card.columns, card.rows)]
    return out
