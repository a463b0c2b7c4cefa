"""A Markdown report for pasting into a ticket or wiki: the summary, the scorecards, the findings.

Untrusted text is escaped by views (target "markdown"); only a cell's line breaks are
turned into spaces here.
"""

from __future__ import annotations

from typing import Any

from cservice_audit.audit import AuditResult
from cservice_audit.i18n import t
from cservice_audit.render.views import MARK, Summary, SummaryRow, finding_rows, header_lines, points_rows, scorecards, shown, summary

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
        columns = [t("col.agent", lang), *shop.heads, t("summary.points", lang)]

        def row(r: SummaryRow, name: str | None = None) -> list[str]:
            return [name or r.name, *(MARK[m].strip() for m in r.marks), r.points]

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


def render(result: AuditResult, *, summary_only: bool = False, lang: str = "en", **_: Any) -> str:
    title = t("report.title", lang, name=shown(result.ruleset.name, TARGET), platform=result.ruleset.platform)
    out = [f"# {title}", ""]
    out += [f"- {line}" for line in header_lines(result, lang, TARGET)]
    out += ["", *summary_markdown(summary(result, lang, TARGET))]
    if summary_only:
        return "\n".join(out) + "\n"
    for card in scorecards(result, lang, TARGET):
        out += ["", f"## {card.title}", "", *_table(card.columns, card.rows)]
    columns, rows = points_rows(result, lang, TARGET)
    if rows:
        out += ["", f"## {t('section.points', lang, day=result.as_of)}", "", *_table(columns, rows)]
    columns, rows = finding_rows(result, lang, TARGET)
    out += ["", f"## {t('section.findings', lang, n=result.findings.height)}", ""]
    out += _table(columns, rows) if rows else [t("section.no_findings", lang)]
    return "\n".join(out) + "\n"
