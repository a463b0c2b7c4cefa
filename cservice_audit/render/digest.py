"""The digest for group bots (WeCom, DingTalk, Feishu): Markdown that fits one message.

It is built from the JSON report's dict (`json_report.to_dict`), never from the live result,
so `--format digest` and `cservice-audit notify REPORT.json` send the same text. The classic
bot Markdown dialect has no tables, so everything is short lines and lists. The size limit
(WeCom: 4,096 bytes of UTF-8) is kept by showing fewer list items and saying "…and N more";
text is only ever cut between characters, never inside one.
"""

from __future__ import annotations

import re

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from cservice_audit.i18n import note_kind
from cservice_audit.people import agent_kind
from cservice_audit.render.matrix import TierMark, latest_tiers
from cservice_audit.render.names import in_shop, report_shops, shop_cuts
from cservice_audit.sanitize import markdown_safe
from cservice_audit.schema import SEVERITY_RANK
from cservice_audit.shipped import data_yaml

LIMIT = 4096  # bytes of UTF-8: the WeCom group bot's markdown limit, the strictest of the three
ITEM_CHARS = 160  # one list line at most: a huge agent name or message cannot eat the budget
# A note says what to do at its end (重新导出并重跑 / "Check, export again and rerun"): the English
# of an export cut short is 213 characters and lost its instruction at 160. Notes are few.
NOTE_CHARS = 320
FIRST_SHOWN = 10  # list items shown before trimming starts
# The run's notes a reader must see beside the findings, in the digest (JSON `note_details`)
# and in every report a person reads (views.reader_notes): a shop of the input that was not
# audited, a day judged while still running, a stored day replaced from a cut export, a shop
# the baseline never judged (all its findings new). Without them a report of the shops that
# were judged reads as the whole night. The routine ones (a day audited before, a file named
# twice) stay on stderr and in the JSON.
# Questions held over from the night before (carry.py): what was judged tonight, and those no
# night will judge until a missed night is run (again).
READER_NOTES = (
    "shop_not_judged", "day_running", "replaced_fewer", "baseline_shop", "baseline_later", "other_platform", "worst_of_days",
    "data_ends_early", "unknown_team", "carried", "carried_stuck", "carried_missed", "carried_twice", "days_missing",
    "night_missing",
)  # fmt: skip
# Of those, the ones that doubt the night itself (the input may be cut or another shop's, a
# shop is missing, a later baseline hides findings as known): each is worth a push on its own
# (`notify --only-news`), since the exit status cannot say it. The others explain a report
# (several days judged, a day still running) and ride along with news.
ALARM_NOTES = ("shop_not_judged", "replaced_fewer", "other_platform", "data_ends_early", "unknown_team", "baseline_later", "night_missing")


def is_reader_note(note: Any) -> bool:
    return note_kind(note) in READER_NOTES


def in_lang(entry: dict[str, Any], lang: str) -> str:
    """A finding's or a note's message in `lang`: `message_<lang>` (the JSON's `message_zh`),
    else the English `message`."""
    return (entry.get(f"message_{lang}") if lang != "en" else None) or entry["message"]


@cache
def catalogue() -> dict[str, Any]:
    """outputs.yaml as written: every word a {zh, en} pair."""
    return data_yaml("data/outputs.yaml")


def _pick(node: Any, lang: str) -> Any:
    if isinstance(node, dict) and set(node) == {"zh", "en"}:
        return node[lang]
    return {k: _pick(v, lang) for k, v in node.items()} if isinstance(node, dict) else node


@cache
def _labels(lang: str) -> dict[str, Any]:
    return _pick(catalogue(), lang)


def chosen_lang(lang: str | None) -> str:
    """`lang` when it is zh or en, else the environment's (i18n.default_lang)."""
    from cservice_audit.i18n import default_lang

    return lang if lang in ("zh", "en") else default_lang()


def labels(lang: str | None = None) -> dict[str, Any]:
    """The words of outputs.yaml in `lang` (default: from the environment)."""
    return _labels(chosen_lang(lang))


def _words(lang: str | None = None) -> dict[str, str]:
    return labels(lang)["digest"]


def _who(agent: str, lang: str | None) -> str:
    from cservice_audit.i18n import sentinel_name

    return sentinel_name(agent, chosen_lang(lang)) or agent


def clip(text: str, chars: int = ITEM_CHARS) -> str:
    """At most `chars` characters (str slicing never splits a character)."""
    return text if len(text) <= chars else text[: chars - 1] + "…"


# `_` between two letters or digits (jd_客服09, buyer_02599) and `#` inside a line
# (buyer#1) mark up nothing in Markdown; escaped, a bot that does not read escapes showed
# `jd\_客服09` for every JD sub-account.
_HARMLESS_ESCAPES = re.compile(r"(?<=[^\W_])\\_(?=[^\W_])|(?<=.)\\#")


def _safe(value: object, chars: int = 60) -> str:
    # Clipped before escaping, so an escape sequence is never cut in half. Parentheses are
    # left bare for readability ("(unassigned)"): with every bracket escaped they cannot
    # form a link, and bots would show the backslashes.
    text = markdown_safe(clip("" if value is None else str(value), chars))
    text = _HARMLESS_ESCAPES.sub(lambda m: m.group(0)[1:], text)
    return text.replace("\\(", "(").replace("\\)", ")")


@dataclass
class Section:
    heading: str
    items: list[str]
    shown: int = FIRST_SHOWN
    more: list[str] = field(default_factory=list)
    lang: str | None = None
    chars: int = ITEM_CHARS  # an item's longest

    def lines(self) -> list[str]:
        if not self.items:
            return []
        shown = self.items[: self.shown]
        out = ["", f"**{self.heading}**", *(f"- {clip(item, self.chars)}" for item in shown)]
        rest = len(self.items) - len(shown)
        if rest:
            out.append(_words(self.lang)["more"].format(n=rest))
        return out


def _current(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Metric rows of the period that contains the as-of day, and the failed ones of the
    finished periods a run of several days reports that have new findings (as the summary
    matrix: metrics.periods.earlier_failures)."""
    day = report.get("as_of")
    if not day:
        return []
    fresh = [f for f in report["findings"] if f.get("state") != "known"]
    agents = {(f["shop"], f["agent"], f["code"], f["period_start"]) for f in fresh}
    shops = {(f["shop"], f["code"], f["period_start"]) for f in fresh}

    def earlier_news(m: dict[str, Any]) -> bool:
        if m["period_end"] >= day or m["status"] != "fail":
            return False
        return (m["shop"], m["rule"], m["period_start"]) in shops if m["agent"] is None else (m["shop"], m["agent"], m["rule"], m["period_start"]) in agents

    return [m for m in report["metrics"] if m["period_start"] <= day <= m["period_end"] or earlier_news(m)]


def _rule_severity(report: dict[str, Any]) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in report["findings"]}


def failed_rules(report: dict[str, Any], lang: str | None = None) -> list[str]:
    w = _words(lang)
    by_rule: dict[str, dict[str, Any]] = {}
    for m in _current(report):
        entry = by_rule.setdefault(m["rule"], {"name": m["name"], "shops": set(), "agents": set(), "unassigned": False})
        if m["status"] == "fail":
            # Counted as the summary screen counts: people to coach; unassigned turns apart,
            # the robot left out (a shop of 20 agents never reads "21 agents fail").
            kind = "shop" if m["scope"] == "shop" else agent_kind(m["agent"], m["shop"])
            if kind == "shop":
                entry["shops"].add(m["shop"])
            elif kind == "agent":
                entry["agents"].add((m["shop"], m["agent"]))
            elif kind == "unassigned":
                entry["unassigned"] = True
    order = report["ruleset"]["rules"]
    # The rule's title (3分钟人工回复率), what a supervisor calls it; reports before schema
    # 2.1 have none, so their rule name is shown.
    titles = report["ruleset"].get("titles") or {}
    many_shops = len(_shops(report)) > 1
    lines = []
    for code in sorted(by_rule, key=lambda c: order.index(c) if c in order else len(order)):
        entry = by_rule[code]
        if not entry["shops"] and not entry["agents"] and not entry["unassigned"]:
            continue
        who = []
        if entry["shops"]:
            # With several shops, "the shop fails" must say which.
            failing = w["names_sep"].join(_safe(shop, 30) for shop in sorted(entry["shops"]))
            who.append(w["rule_shops"].format(shops=failing) if many_shops else w["rule_shop"])
        if entry["agents"]:
            who.append(w["rule_agents"].format(n=len(entry["agents"])))
        if entry["unassigned"]:
            who.append(w["rule_unassigned"])
        lines.append(w["rule_line"].format(code=code, name=_safe(titles.get(code) or entry["name"]), who=w["sep"].join(who)))
    return lines


def worst_agents(report: dict[str, Any], lang: str | None = None) -> list[str]:
    """Agents with a failed or at-risk rule, worst first (error fails, fails, at risk, points)."""
    w = _words(lang)
    severity = _rule_severity(report)
    agents: dict[tuple[str, str], dict[str, list[str]]] = {}
    for m in _current(report):
        if m["scope"] != "agent" or agent_kind(m["agent"], m["shop"]) != "agent":
            continue  # the robot and unassigned turns are nobody to coach (the rules' lines say so)
        entry = agents.setdefault((m["shop"], m["agent"]), {"fail": [], "at_risk": []})
        if m["status"] in entry:
            entry[m["status"]].append(m["rule"])
    points = {(p["shop"], p["agent"]): p["points"] for p in report["summary"]["points"] if p["agent"] is not None}
    name = _namer(report, lang)

    # How far from passing, after the counts (render/matrix.shortfalls): on JD no rule
    # carries points, and ties fell to the name.
    gaps: dict[tuple[str, str], float] = {}
    for m in _current(report):
        if m["status"] == "fail" and (m.get("threshold") or 0) > 0 and m.get("value") is not None:
            key = (m["shop"], m["agent"])
            gaps[key] = max(gaps.get(key, 0.0), abs(m["value"] - m["threshold"]) / m["threshold"])

    def badness(key: tuple[str, str]) -> tuple:
        entry = agents[key]
        errors = sum(1 for c in entry["fail"] if severity.get(c) == "error")
        return (-errors, -len(entry["fail"]), -len(entry["at_risk"]), -abs(points.get(key, 0)), -gaps.get(key, 0.0), key[0], key[1] or "")

    for entry in agents.values():  # a rule failed on several days of the run is named once
        entry["fail"] = list(dict.fromkeys(entry["fail"]))
        entry["at_risk"] = [code for code in dict.fromkeys(entry["at_risk"]) if code not in entry["fail"]]
    lines = []
    for key in sorted(agents, key=badness):
        entry = agents[key]
        if not entry["fail"] and not entry["at_risk"]:
            continue
        parts = []
        if entry["fail"]:
            parts.append(w["agent_fails"].format(codes=w["names_sep"].join(entry["fail"])))
        if entry["at_risk"]:
            parts.append(w["agent_at_risk"].format(codes=w["names_sep"].join(entry["at_risk"])))
        if points.get(key):
            parts.append(w["agent_points"].format(points=f"{points[key]:g}"))
        lines.append(w["agent_line"].format(name=name(*key), what=" · ".join(parts)))
    return lines


def need_lines(report: dict[str, Any], lang: str | None = None) -> list[str]:
    """What each at-risk period still needs to pass (docs/metrics.md, What an at-risk period
    still needs), for the shop totals and the agents: those that can still pass first, then
    those that cannot. The JSON carries the needed counts, not the rule's check, so the
    digest says `达标` where the table names what counts (及时回复, 满意), and a mean-wait
    rule is told by its needed mean. A rate over its limit is the one rate that fails above
    it, the share of bad reviews blaming attitude (KS-G2): its remaining reviews must not
    blame attitude, and `达标` read as "collect good reviews", which do not count in it."""
    from datetime import date

    from cservice_audit.render.items_view import labels as drill_labels
    from cservice_audit.render.items_view import needs_text

    lang = chosen_lang(lang)
    words = drill_labels(lang)
    colon = _words(lang)["colon"]
    name = _namer(report, lang)
    rows = [
        m for m in _current(report)
        if m["status"] == "at_risk" and m.get("can_pass") is not None
        and (m["scope"] == "shop" or agent_kind(m["agent"], m["shop"]) == "agent")
    ]  # fmt: skip
    lines = []
    for m in sorted(rows, key=lambda m: not m["can_pass"]):  # stable: metric order within
        mean = m.get("needed_mean_wait") is not None
        above = m.get("value") is not None and m.get("threshold") is not None and m["value"] > m["threshold"]
        needs = needs_text(m, words["good"]["attitude_share" if above and not mean else "generic"], mean, words)
        start, end = date.fromisoformat(m["period_start"]), date.fromisoformat(m["period_end"])
        period = words["period_short"][m["period"]].format(start=start, end=end)
        lines.append(f"{name(m['shop'], m['agent'])} {_safe(m['rule'], 20)} {period}{colon}{needs}")
    return lines


def _shops(report: dict[str, Any]) -> list[str]:
    """The shops the digest is about (names.report_shops)."""
    return report_shops((m["shop"] for m in report["metrics"]), (f["shop"] for f in report["findings"]))


def _cuts(report: dict[str, Any]) -> dict[str | None, str]:
    """Per shop, the prefix its agents are shown without (names.shop_prefix): the digest names
    the shop over its lists (one shop) or beside each agent (several)."""
    named = [*((m["shop"], m["agent"]) for m in report["metrics"]), *((f["shop"], f["agent"]) for f in report["findings"])]
    return shop_cuts(named)


def _namer(report: dict[str, Any], lang: str | None) -> Callable[[str | None, str | None], str]:
    """Who a line is about. A digest of one shop names it on its `店铺：` line: its agents go
    without the shop's prefix and the shop itself is `（全店）`, as in the findings table. With
    several, every agent is named beside its shop (`淘宝乙店 / 客服05`, spec §11: two shops'
    客服05 are two people) and a shop-scope line by the shop's name."""
    from cservice_audit.i18n import t

    one_shop = len(_shops(report)) <= 1
    cuts = _cuts(report)
    shop_total = t("who.shop_total", chosen_lang(lang))

    def name(shop: str | None, agent: str | None) -> str:
        if agent is None:
            return shop_total if one_shop else _safe(shop, 40)
        agent_name = _safe(_who(in_shop(agent, cuts.get(shop, "")), lang), 40)
        return agent_name if one_shop or not shop else f"{_safe(shop, 30)} / {agent_name}"

    return name


def pending(f: dict[str, Any]) -> bool:
    """A turn that waits for more data (spec §5: pending, not a violation; `status` pending
    since schema 2.4). The group reads them apart from the new findings: they are the night's
    questions an agent can still answer in time, not problems."""
    return f.get("status") == "pending"


def finding_lines(report: dict[str, Any], lang: str = "en") -> tuple[list[str], int, bool]:
    """The new findings when the report says which are new (`state`), else all of them,
    errors first, each with its message in `lang` (`message_zh`, else the English one);
    pending turns are pending_lines'. Returns the lines, the total and whether `state` was
    present."""
    findings = [f for f in report["findings"] if not pending(f)]
    has_state = any("state" in f for f in report["findings"])
    chosen = [f for f in findings if f.get("state") == "new"] if has_state else list(findings)
    return _lines(report, chosen, lang), len(findings), has_state


def pending_lines(report: dict[str, Any], lang: str = "en") -> list[str]:
    """The new pending turns (all of them without `state`), latest question first: each
    message gives when it will be judged, and the latest are the ones the morning can still
    answer in time (a 01:00 question's 24 hours are over before a 02:30 push is read)."""
    waiting = [f for f in report["findings"] if pending(f) and f.get("state") != "known"]
    waiting.sort(key=lambda f: (f["code"], f["shop"] or "", f["agent"] or ""))
    waiting.sort(key=lambda f: f["ts"] or "", reverse=True)
    return _lines(report, waiting, lang, ordered=True)


def _lines(report: dict[str, Any], chosen: list[dict[str, Any]], lang: str, ordered: bool = False) -> list[str]:
    """A line per finding of `chosen` (who, when, where to look, what), in the digest's order
    unless `ordered`."""
    # Within a severity, what happened in a conversation first (an insult, a WeChat id): the
    # failed rates are the sections above; listed first, they pushed the incidents out of the
    # message, behind `……另有 32 项`. Of those, an agent's first: a day's unanswered turns of
    # nobody's (PDD-N1 （未分配）) filled the lines before any insult or WeChat id. Then the rules
    # take turns, one line each, costliest first by points (an insult's −30 before an
    # unanswered turn's −10): by rule code a night's PDD-N1 lines took all ten places, and by
    # points alone PDD-P2's WeChat ids (no points: the platform states none) fell behind every
    # −10 line. The ten lines show every kind of incident the night had.
    def group(f: dict[str, Any]) -> tuple:
        coached = agent_kind(f["agent"], f["shop"]) == "agent"
        return (SEVERITY_RANK.get(f["severity"], 9), not f.get("conversation"), not coached)

    if not ordered:
        chosen = sorted(chosen, key=lambda f: (*group(f), f["code"], f["shop"] or "", f["agent"] or "", f["ts"] or ""))
        turns: dict[tuple, int] = {}
        ranked = []
        for f in chosen:
            key = (*group(f), f["code"])
            turns[key] = turns.get(key, -1) + 1
            ranked.append(((*group(f), turns[key], -abs(f.get("points") or 0), f["code"]), f))
        chosen = [f for _, f in sorted(ranked, key=lambda pair: pair[0])]
    name = _namer(report, lang)
    words = _words(lang)
    # A run of several days gives each incident its day (11-21 14:20): the time alone read
    # as the as-of day's, Monday's and Sunday's alike.
    several_days = any(f["day"] and f["day"] != report.get("as_of") for f in chosen)
    days = _days_with_data(report)
    lines = []
    for f in chosen:
        who = name(f["shop"], f["agent"])
        # A week's, month's or 30-day finding has no one day: its message gives the span (its
        # first day alone would read as the day it happened, as in the findings table).
        one_day = f.get("period") in (None, "day")
        # A question of the night before, judged and counted tonight (carry.py), gives its day too.
        other_day = bool(f["ts"] and f["day"] and f["ts"][:10] != f["day"])
        when = (f["ts"] or "")[5 if several_days or other_day else 11 : 16].replace("T", " ") or f["day"] or (f["period_start"] if one_day else None)
        said = _safe(in_lang(f, lang), 90)
        if not f["ts"] and when and when in said:
            when = None  # a day's rate names its day in the message: `DY-R3 小周 2026-11-16：…，2026-11-16` said it twice
        # The conversation to open (`show ID`, or the back office's search), when there is one.
        where = words["conversation"].format(id=_safe(f["conversation"], 40)) if f.get("conversation") else None
        # A period's rate from part of its days says so, as the tier lines do: a first night's
        # `近30天` figure rests on one day (the scorecard said 有数据 1/30 天, the group did not).
        covered = None if one_day else days.get((f["code"], f["shop"], f.get("period"), f.get("period_start")))
        thin = words["tier_days"].format(n=covered[0], of=covered[1]) if covered else ""
        lines.append(" ".join(filter(None, (f["code"], who, when, where))) + words["colon"] + said + thin)
    return lines


def note_lines(report: dict[str, Any], lang: str = "en") -> list[str]:
    """The forwarded notes in `lang`; a report before schema 2.2 has none to give."""
    return [
        _safe(in_lang(n, lang), NOTE_CHARS)
        for n in report.get("note_details", [])
        if n["kind"] in READER_NOTES
    ]


def worth_pushing(report: dict[str, Any], fail_on: str = "error") -> bool:
    """Whether the group should hear of this report: a new finding at or above `fail_on` (what
    makes the audit exit 1) or a note that doubts the night (ALARM_NOTES: an export cut short,
    another shop's export, a shop left out) that the night's earlier run did not already hold.
    `notify --only-news` pushes nothing else, so a cron line can push after exit 0 too: a clean
    night with a cut export must not be silent, nor told twice on a rerun."""
    worst = SEVERITY_RANK[fail_on]
    # An unknown severity ranks last, as in the digest's order (a hand-edited report must not crash the push).
    news = any(f.get("state") != "known" and SEVERITY_RANK.get(f["severity"], 9) <= worst for f in report["findings"])
    # A note the baseline of the same night already held (state known, schema 2.5) was pushed then.
    return news or any(n["kind"] in ALARM_NOTES and n.get("state") != "known" for n in report.get("note_details", []))


def tier_lines(report: dict[str, Any], lang: str | None = None) -> list[str]:
    """A line per shop, agent and rule with a tier: the latest reached, and apart the one an
    at-risk period would reach if it failed (said so: it is not reached yet)."""
    found: dict[tuple, list[TierMark]] = {}
    days = _days_with_data(report)
    thin: dict[tuple, str] = {}  # (shop, agent, mark) -> `（按 1/7 天数据）` when its period's data is partial
    for f in report["findings"]:  # in period order
        if f.get("tier"):
            mark = TierMark.of(f["code"], f["tier"], f.get("penalty"), f.get("status"))
            found.setdefault((f["shop"], f["agent"]), []).append(mark)
            covered = days.get((f["code"], f["shop"], f.get("period"), f.get("period_start")))
            thin[(f["shop"], f["agent"], mark)] = _words(lang)["tier_days"].format(n=covered[0], of=covered[1]) if covered else ""
    name = _namer(report, lang)
    colon = _words(lang)["colon"]
    return [
        f"{name(shop, agent)} {mark.code}{colon}{_safe(mark.text(chosen_lang(lang)), 80)}{thin.get((shop, agent, mark), '')}"
        for (shop, agent), marks in found.items()
        for mark in latest_tiers(marks)
    ]


def _days_with_data(report: dict[str, Any]) -> dict[tuple, tuple[int, int]]:
    """(rule, shop, period, start) -> (days with data, days so far) of each period with data on
    fewer of its days than have passed: on a history's first night a week's tier comes from one
    day, which the scorecards said (有数据 1/7 天) and the group's message did not. The shop's
    days, the most any of its rows has, as the scorecard counts them: an agent's day off is not
    a day without data."""
    as_of = report.get("as_of")
    most: dict[tuple, tuple[int, int]] = {}
    for m in report.get("metrics", []) if as_of else []:
        if m.get("coverage") is None:
            continue
        key = (m["rule"], m["shop"], m["period"], m["period_start"])
        so_far = (date.fromisoformat(min(m["period_end"], as_of)) - date.fromisoformat(m["period_start"])).days + 1
        most[key] = (max(m["coverage"], most.get(key, (0, 0))[0]), so_far)
    return {key: days for key, days in most.items() if days[0] < days[1]}


def _platform_name(ruleset: dict[str, Any], lang: str | None) -> str:
    """The platform as its readers call it: the ruleset's `name` (快手小店) in Chinese, the
    platform code (kuaishou) in English, or where a report has no name."""
    name = ruleset.get("name")
    return name if chosen_lang(lang) == "zh" and isinstance(name, str) and name.strip() else ruleset["platform"]


def heading(report: dict[str, Any], lang: str | None = None) -> str:
    """The digest's first line, plain: also the bot message's title (DingTalk's banner and chat
    list, Feishu's card header), so the group reads one name for the platform, in its language."""
    return _words(lang)["title"].format(platform=_safe(_platform_name(report["ruleset"], lang), 20), day=report.get("as_of") or "-")


def digest(
    report: dict[str, Any], *, report_url: str | None = None, limit: int = LIMIT, lang: str | None = None,
) -> str:
    """The digest of a JSON report, at most `limit` bytes of UTF-8, in `lang` (default: from
    the environment)."""
    w = _words(lang)
    shops = _shops(report)
    head = [
        f"**{heading(report, lang)}**",
        w["shop"].format(shops=w["names_sep"].join(_safe(s, 40) for s in shops[:5]) + (" …" if len(shops) > 5 else "")),
    ]
    findings, total, has_state = finding_lines(report, chosen_lang(lang))
    waiting = pending_lines(report, chosen_lang(lang))
    sections = [
        Section(w["notes"], note_lines(report, chosen_lang(lang)), lang=lang, chars=NOTE_CHARS),
        Section(w["rules_failed"].format(n=0), failed_rules(report, lang), lang=lang),
        Section(w["worst"], worst_agents(report, lang), lang=lang),
        Section(w["needs"], need_lines(report, lang), lang=lang),
        Section((w["findings_new"] if has_state else w["findings_all"]).format(n=len(findings), total=total), findings, lang=lang),
        Section(w["pending"].format(n=len(waiting)), waiting, lang=lang),
        Section(w["tiers"], tier_lines(report, lang), lang=lang),
    ]
    sections[1].heading = w["rules_failed"].format(n=len(sections[1].items))
    tail = ["", w["report"].format(url=report_url)] if report_url else []
    if not any(s.items for s in sections[1:]):  # about the shops judged; the notes say what was not
        head.append(w["clean"])
    elif has_state and not findings and total:
        # A night pushed for its notes alone (notify --only-news): what follows was told before.
        head.append(w["none_new"].format(total=total))

    def assemble() -> str:
        return "\n".join(head + [line for s in sections for line in s.lines()] + tail) + "\n"

    text = assemble()
    # Show one item fewer in the longest shown list until the message fits.
    while len(text.encode("utf-8")) > limit:
        longest = max(sections, key=lambda s: min(s.shown, len(s.items)))
        if min(longest.shown, len(longest.items)) == 0:
            break
        longest.shown = min(longest.shown, len(longest.items)) - 1
        text = assemble()
    if len(text.encode("utf-8")) > limit:  # only a huge --report-url gets here: keep whole characters
        text = text.encode("utf-8")[: limit - 4].decode("utf-8", errors="ignore") + "…\n"
    return text


def render(result, *, report_url: str | None = None, lang: str = "en", **_: Any) -> str:
    from cservice_audit.render.json_report import to_dict

    return digest(to_dict(result), report_url=report_url, lang=lang)
