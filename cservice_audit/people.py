"""Who a row is about: a person to coach, the robot, nobody (unassigned) or the shop.

A row's kind is `agent` (a person to coach), `bot` (the robot), `unassigned` (buyer turns
nobody answered, so no agent owns them) or `shop` (the shop total: no agent). The robot is an
account whose every message in the input is a bot's (`bots`, audit.bot_accounts), or, for
agents known only from the history, one named like a robot: the sentinel that normalize gives
bot rows without an account, or a bot role spelling of `data/aliases.yaml` (机器人, 智能客服,
robot, ...). The reports (render/matrix.py and the formats) group and count by it, and the
audit's notes decide by it who is on a shop's team. See docs/report.md.
"""

from __future__ import annotations

from functools import cache

from cservice_audit.metrics.waits import UNASSIGNED
from cservice_audit.normalize import BOT_WITHOUT_ACCOUNT
from cservice_audit.shipped import data_yaml

# People first, then the robot, the unassigned turns and the shop total (the reports' order).
KIND_ORDER = {"agent": 0, "bot": 1, "unassigned": 2, "shop": 3}


@cache
def _bot_names() -> frozenset[str]:
    aliases = data_yaml("data/aliases.yaml")
    names = set(aliases["values"]["role"]["bot"]) | set(aliases["values"]["served_by"]["bot"])
    return frozenset(n.casefold() for n in names)


def agent_kind(agent: str | None, shop: str | None = None, bots: frozenset = frozenset()) -> str:
    """agent | bot | unassigned | shop (None: the shop total)."""
    if agent is None:
        return "shop"
    if agent == UNASSIGNED:
        return "unassigned"
    if (shop, agent) in bots or agent == BOT_WITHOUT_ACCOUNT or agent.strip().casefold() in _bot_names():
        return "bot"
    return "agent"
