"""A Markdown report: the scorecard and the findings, for pasting into a ticket or wiki."""

from __future__ import annotations

from typing import Any

from cservice_audit.audit import AuditResult
from cservice_audit.render.views import finding_rows, header_lines, points_rows, scorecards


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]
    return lines


def render(result: AuditResult, *, quiet: bool = False, show_paths: bool = False, **_: Any) -> str:
    out = [f"# cservice-audit: {result.ruleset.name} ({result.ruleset.platform})"]
    if not quiet:  # -q: findings only, as in the table format
        out += ["", *(f"- {line}" for line in header_lines(result, show_paths))]
        for card in scorecards(result):
            out += ["", f"## {card.title}", "", *_table(card.columns, card.rows)]
        columns, rows = points_rows(result)
        if rows:
            out += ["", f"## Points in force on {result.as_of}", "", *_table(columns, rows)]
    columns, rows = finding_rows(result)
    out += ["", f"## Findings ({len(rows)})", ""]
    out += _table(columns, rows) if rows else ["No findings."]
    return "\n".join(out) + "\n"
