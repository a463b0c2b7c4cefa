"""The per-agent matrix: agent × rule status for the period that contains the as-of day.

Shared by every human format (the summary screen, markdown, the workbook's summary sheet,
the HTML report, the bot digest). Nothing is computed here that the result does not hold:
statuses are metric rows, points are the points in force, tiers are the findings' tiers.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from cservice_audit.audit import AuditResult

# Worst first: an agent's badness is (error fails, other fails, at risk, |points|); points are
# deductions (negative) on some platforms.
STATUS_ORDER = ("fail", "at_risk", "insufficient", "pass")


@dataclass(frozen=True)
class MatrixRow:
    shop: str
    agent: str | None  # None: the shop total
    is_bot: bool
    statuses: dict[str, str]  # rule code -> pass | fail | at_risk | insufficient (absent: no data)
    points: float
    tiers: dict[str, str]  # rule code -> highest escalation tier reached (with its penalty)
    error_fails: int
    fails: int
    at_risk: int


@dataclass(frozen=True)
class Matrix:
    rules: list[str]  # rule codes that have a row for any agent, in ruleset order
    rows: list[MatrixRow]  # worst agent first within each shop; the shop total last

    def failing_rules(self, shop: str) -> list[str]:
        """Rule codes failed by the shop total or by any agent of the shop."""
        return [r for r in self.rules if any(row.shop == shop and row.statuses.get(r) == "fail" for row in self.rows)]

    @property
    def shops(self) -> list[str]:
        return sorted({row.shop for row in self.rows})


def agent_matrix(result: AuditResult) -> Matrix:
    as_of = result.as_of
    codes = [rule.code for rule in result.ruleset.rules if rule.check != "data_quality"]
    severity = {rule.code: rule.severity for rule in result.ruleset.rules}
    if as_of is None or result.metrics.is_empty():
        return Matrix([], [])
    current = result.metrics.filter((pl.col("period_start") <= as_of) & (pl.col("period_end") >= as_of))
    cells: dict[tuple[str, str | None], dict[str, str]] = {}
    for shop, agent, rule, status in current.select("shop", "agent", "rule", "status").iter_rows():
        cells.setdefault((shop, agent), {})[rule] = status
    points: dict[tuple[str, str | None], float] = {}
    for shop, agent, value in result.points.select("shop", "agent", "points").iter_rows():
        points[(shop, agent)] = points.get((shop, agent), 0.0) + (value or 0.0)
    tiers: dict[tuple[str, str | None], dict[str, str]] = {}
    tiered = result.findings.filter(pl.col("tier").is_not_null())
    for shop, agent, code, tier, penalty in tiered.select("shop", "agent", "code", "tier", "penalty").iter_rows():
        label = f"{tier}（{penalty}）" if penalty else tier
        tiers.setdefault((shop, agent), {})[code] = label  # later periods overwrite earlier ones
    for key in points:
        cells.setdefault(key, {})
    used = [c for c in codes if any(c in statuses for statuses in cells.values())]
    rows = []
    for (shop, agent), statuses in cells.items():
        fails = [c for c, s in statuses.items() if s == "fail"]
        rows.append(
            MatrixRow(
                shop=shop,
                agent=agent,
                is_bot=agent == "(bot)",
                statuses=statuses,
                points=points.get((shop, agent), 0.0),
                tiers=tiers.get((shop, agent), {}),
                error_fails=sum(1 for c in fails if severity.get(c) == "error"),
                fails=len(fails),
                at_risk=sum(1 for s in statuses.values() if s == "at_risk"),
            )
        )
    rows.sort(key=lambda r: (r.shop, r.agent is None, r.is_bot, -r.error_fails, -r.fails, -r.at_risk, -abs(r.points), r.agent or ""))
    return Matrix(used, rows)
