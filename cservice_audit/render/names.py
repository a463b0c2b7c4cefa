"""Agents' names beside their shop's.

Taobao exports name an agent `店铺名:客服名` (the shop's sub-account). Where the report shows
the shop's name on the same line (`小林数码专营店 / 客服07`) or over the whole report (a
report of one shop names it in its header), the prefix says nothing the reader does not see
already, and twenty prefixed names leave no width for the figures or the findings' text. So
every view a person reads leaves it off; JSON, CSV and the workbook (data to filter and
join) keep the names as exported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import polars as pl

from cservice_audit.normalize import DEFAULT_SHOP

if TYPE_CHECKING:
    from cservice_audit.audit import AuditResult


def shop_prefix(shop: str | None, agents: Iterable[str | None]) -> str:
    """`shop:` when the shop's agents are its sub-accounts and every one stays distinct once
    cut (a plain 客服07 beside 小林数码专营店:客服07 keeps every name of the shop whole); else ""."""
    if not shop:
        return ""
    cut = f"{shop}:"
    named = {a for a in agents if a is not None}
    inside = {a for a in named if a.startswith(cut) and len(a) > len(cut)}
    if not inside:
        return ""
    shortened = {a.removeprefix(cut) for a in inside}
    return "" if shortened & (named - inside) else cut


def shop_cuts(pairs: Iterable[tuple[str | None, str | None]]) -> dict[str | None, str]:
    """Per shop, the prefix its agents are shown without (`shop_prefix`), from every
    (shop, agent) pair the report names."""
    agents: dict[str | None, set[str | None]] = {}
    for shop, agent in pairs:
        agents.setdefault(shop, set()).add(agent)
    return {shop: shop_prefix(shop, names) for shop, names in agents.items()}


def in_shop(agent: str | None, cut: str) -> str | None:
    """The agent's name beside its shop's (`cut`, from `shop_prefix`, left off)."""
    if agent is None or not cut or not agent.startswith(cut) or len(agent) == len(cut):
        return agent
    return agent.removeprefix(cut)


def report_shops(judged: Iterable[str | None], named: Iterable[str | None]) -> list[str]:
    """The shops a report is about, for the people who read it: those `judged` (its metrics')
    and those `named` by its findings. A rejected row whose shop could not be read is under
    `-` (spec §11 reports it whatever shop it names): not one more shop beside shops judged
    ("店铺：-, 抖店示例店"). The digest reads it off the JSON, the other views off the result."""
    judged_set = {shop for shop in judged if shop}
    named_set = {shop for shop in named if shop and not (judged_set and shop == DEFAULT_SHOP)}
    return sorted(judged_set | named_set)


def many_shops(result: AuditResult) -> bool:
    """Whether the report is about several shops (`report_shops`): then every agent a person
    reads is named beside its shop. Never decided from the rows of one table: a two-shop
    report whose findings are all one shop's would name that shop nowhere on them."""
    shops = report_shops(result.metrics.get_column("shop").unique(), result.findings.get_column("shop").unique())
    return len(shops) > 1


def report_cuts(result: AuditResult) -> dict[str | None, str]:
    """Per shop of an audit, the prefix its agents are shown without (from every agent named
    in its metrics and findings, so that every view of the report cuts alike)."""
    pairs = pl.concat([result.metrics.select("shop", "agent"), result.findings.select("shop", "agent")], how="vertical_relaxed")
    return shop_cuts(pairs.unique().iter_rows())
