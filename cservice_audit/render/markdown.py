"""A Markdown report: the scorecard and the findings, for pasting into a ticket or wiki."""

from __future__ import annotations

from typing import Any

from cservice_audit.audit import AuditResult
from cservice_audit.sanitize import markdown_safe
from cservice_audit.render.views import finding_rows, header_lines, points_rows, scorecards


def _escape(cell: str) -> str:
    # No links, images, raw HTML or emphasis from the data: every markup character escaped.
    return markdown_safe(cell.replace("\n", " "))


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]
    return lines


def render(result: AuditResult, **_: Any) -> str:
    out = [f"# cservice-audit: {_escape(result.ruleset.name)} ({_escape(result.ruleset.platform)})", ""]
    out += [f"- {_escape(line)}" for line in header_lines(result)]
    for card in scorecards(result):
        out += ["", f"## {_escape(card.title)}", "", *_table([_escape(c) for c in card.columns], card.rows)]
    columns, rows = points_rows(result)
    if rows:
        out += ["", f"## Points in force on {result.as_of}", "", *_table([_escape(c) for c in columns], rows)]
    columns, rows = finding_rows(result)
    out += ["", f"## Findings ({len(rows)})", ""]
    out += _table(columns, rows) if rows else ["No findings."]
    return "\n".join(out) + "\n"
