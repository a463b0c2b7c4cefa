"""The per-agent matrix: agent × rule status for the period that contains the as-of day, and
in a run of several days, a failure with new findings in any finished day, week or month it
reports.

Shared by every human format (the summary screen, markdown, the workbook's summary sheet,
the HTML report, the bot digest). Nothing is computed here that the result does not hold:
statuses are metric rows, points are the points in force, tiers are the findings' tiers.

Who is coached: a row's `kind` (cservice_audit/people.py): a person, the robot, unassigned
turns or the shop total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.i18n import t
from cservice_audit.metrics.periods import earlier_failures
from cservice_audit.people import KIND_ORDER, agent_kind

# Worst first: an agent's badness is (error fails, other fails, at risk, |points|); points are
# deductions (negative) on some platforms.
STATUS_ORDER = ("fail", "at_risk", "insufficient", "pass")
@dataclass(frozen=True)
class TierMark:
    """An escalation tier a rule's finding carries. `if_fails`: the finding's period is only
    at risk, so this is the tier it reaches if the period fails, not one reached (an at-risk
    week after a failed one carries the next tier up)."""

    code: str
    label: str
    penalty: str | None
    if_fails: bool = False

    def text(self, lang: str, with_penalty: bool = True) -> str:
        label = t("tier.if_fails", lang, tier=self.label) if self.if_fails else self.label
        return f"{label}（{self.penalty}）" if with_penalty and self.penalty else label

    @classmethod
    def of(cls, code: str, tier: str, penalty: str | None, status: str | None) -> TierMark:
        """The tier of a finding with this `status`: threatened when the period is at risk."""
        return cls(code, tier, penalty, status == "at_risk")


def latest_tiers(found: Iterable[TierMark]) -> list[TierMark]:
    """The tiers to show of one shop or agent, from its findings' in period order: per rule
    the latest reached and the latest threatened (a later period's replaces an earlier one's),
    a threatened tier equal to the reached one left out (it says nothing more); by rule in
    order of first appearance, the reached before the threatened."""
    latest: dict[tuple[str, bool], TierMark] = {}
    for mark in found:
        latest[(mark.code, mark.if_fails)] = mark
    first = list(dict.fromkeys(code for code, _ in latest))
    marks = [m for m in latest.values() if not (m.if_fails and (reached := latest.get((m.code, False))) and reached.label == m.label)]
    return sorted(marks, key=lambda m: (first.index(m.code), m.if_fails))


@dataclass(frozen=True)
class MatrixRow:
    shop: str
    agent: str | None  # None: the shop total
    is_bot: bool
    statuses: dict[str, str]  # rule code -> pass | fail | at_risk | insufficient (absent: no data)
    points: float
    tiers: list[TierMark]  # in rule order: per rule the latest tier reached, then the one an at-risk period threatens
    error_fails: int
    fails: int
    at_risk: int
    kind: str = "agent"  # agent | bot | unassigned | shop
    lost: int = 0  # of the at-risk periods, those that can no longer pass (needs.py `can_pass`)
    gap: float = 0.0  # how far its worst failing rate or wait is from its threshold (shortfalls)

    @property
    def coached(self) -> bool:
        """A person the supervisor coaches (not the robot, not unassigned turns, not the shop)."""
        return self.kind == "agent"


@dataclass(frozen=True)
class Matrix:
    rules: list[str]  # rule codes that have a row for any agent, in ruleset order
    rows: list[MatrixRow]  # per shop: agents worst first, then the robot, unassigned, the shop total

    def failing_rules(self, shop: str) -> list[str]:
        """Rule codes failed by the shop total or by any agent of the shop."""
        return [r for r in self.rules if any(row.shop == shop and row.statuses.get(r) == "fail" for row in self.rows)]

    @property
    def shops(self) -> list[str]:
        return sorted({row.shop for row in self.rows})

    def of_shop(self, shop: str) -> list[MatrixRow]:
        return [row for row in self.rows if row.shop == shop]


def shortfalls(metrics: pl.DataFrame) -> pl.DataFrame:
    """(shop, agent, gap): per agent, the largest distance of a failing rate or wait from its
    threshold, as a share of the threshold (a rate of 35 % against 80 %: 0.56; a mean wait of
    80 s against 40 s: 1.0). A tie-break for worst first, after the counts of failed and
    at-risk rules (an at-risk period's distance so far says little about where it ends)."""
    return (
        metrics.filter((pl.col("status") == "fail") & (pl.col("threshold") > 0) & pl.col("value").is_not_null())
        .group_by("shop", "agent")
        .agg(((pl.col("value") - pl.col("threshold")).abs() / pl.col("threshold")).max().alias("gap"))
    )


def agent_matrix(result: AuditResult) -> Matrix:
    as_of = result.as_of
    codes = [rule.code for rule in result.ruleset.rules if rule.check != "data_quality"]
    severity = {rule.code: rule.severity for rule in result.ruleset.rules}
    if as_of is None or result.metrics.is_empty():
        return Matrix([], [])
    current = result.metrics.filter((pl.col("period_start") <= as_of) & (pl.col("period_end") >= as_of))
    cells: dict[tuple[str, str | None], dict[str, str]] = {}
    lost: dict[tuple[str, str | None], int] = {}
    hopeless = (pl.col("status") == "at_risk") & ~pl.col("can_pass") if "can_pass" in current.columns else pl.lit(False)
    for shop, agent, rule, status, gone in current.select("shop", "agent", "rule", "status", hopeless.fill_null(False).alias("lost")).iter_rows():
        cells.setdefault((shop, agent), {})[rule] = status
        lost[(shop, agent)] = lost.get((shop, agent), 0) + gone
    # A run of several days also reports the finished calendar periods before the as-of day
    # (each day of a daily rule, a week, a month): one failed with news in it is a failure
    # to coach, so the cell shows it. The current period alone made a week's audit say
    # 全部达标 of agents with off-platform findings on its earlier days (audit notes it).
    earlier = earlier_failures(result.metrics, result.findings, as_of)
    for shop, agent, rule in earlier.select("shop", "agent", "rule").iter_rows():
        cells.setdefault((shop, agent), {})[rule] = "fail"
    gaps = {(shop, agent): gap for shop, agent, gap in shortfalls(pl.concat([current, earlier], how="diagonal_relaxed")).iter_rows()}
    points: dict[tuple[str, str | None], float] = {}
    for shop, agent, value in result.points.select("shop", "agent", "points").iter_rows():
        points[(shop, agent)] = points.get((shop, agent), 0.0) + (value or 0.0)
    found: dict[tuple[str, str | None], list[TierMark]] = {}
    # Findings are sorted by period (latest_tiers keeps the latest).
    tiered = result.findings.filter(pl.col("tier").is_not_null())
    for shop, agent, code, tier, penalty, status in tiered.select("shop", "agent", "code", "tier", "penalty", "status").iter_rows():
        found.setdefault((shop, agent), []).append(TierMark.of(code, tier, penalty, status))
    for key in points:
        cells.setdefault(key, {})
    used = [c for c in codes if any(c in statuses for statuses in cells.values())]
    rows = []
    for (shop, agent), statuses in cells.items():
        fails = [c for c, s in statuses.items() if s == "fail"]
        kind = agent_kind(agent, shop, getattr(result, "bots", frozenset()))
        marks = latest_tiers(found.get((shop, agent), []))
        marks.sort(key=lambda m: codes.index(m.code) if m.code in codes else len(codes))  # stable: reached first
        rows.append(
            MatrixRow(
                shop=shop,
                agent=agent,
                is_bot=kind == "bot",
                statuses=statuses,
                points=points.get((shop, agent), 0.0),
                tiers=marks,
                error_fails=sum(1 for c in fails if severity.get(c) == "error"),
                fails=len(fails),
                at_risk=sum(1 for s in statuses.values() if s == "at_risk"),
                kind=kind,
                lost=lost.get((shop, agent), 0),
                gap=gaps.get((shop, agent), 0.0),
            )
        )
    # Then how far from passing: on JD no rule carries points, and 35 % was listed above 0 %
    # by name alone.
    rows.sort(key=lambda r: (r.shop, KIND_ORDER[r.kind], -r.error_fails, -r.fails, -r.at_risk, -abs(r.points), -r.gap, r.agent or ""))
    return Matrix(used, rows)
