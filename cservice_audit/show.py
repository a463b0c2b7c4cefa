"""`cservice-audit show CONVERSATION FILE...`: one conversation as an annotated transcript.

Nothing is judged here: the normal audit runs on the input (run_audit with
`AuditOptions.conversation`), and `conversation_rows` takes, for that one conversation,
what the audit's own stages give: each message of the event table, each buyer message's
wait from the same wait computation every reply rule reads (metrics/waits.py), the items
each reply rule counts there (checks/items.reply_items) and the audit's findings. `render`
turns them into text; every untrusted string goes through `terminal_safe`/`one_line`.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

import polars as pl
from rich.cells import cell_len

from cservice_audit.checks.context import Context
from cservice_audit.checks.items import reply_items
from cservice_audit.errors import AuditError
from cservice_audit.params import Window
from cservice_audit.i18n import listed, sentinel_name, t
from cservice_audit.render.items_view import wait_text
from cservice_audit.render.names import in_shop
from cservice_audit.render.digest import in_lang
from cservice_audit.ruleset import Ruleset
from cservice_audit.sanitize import one_line, terminal_safe

REPLY_CHECKS = ("reply_rate", "average_wait")
WHOLE_DAY = Window(0, 86_400)
CLOSE_IDS = 5
NAME_MIN, NAME_MAX = 10, 24  # terminal cells of the agent column (a longer name pushes its text)


def close_ids(conversation: str, ids: pl.Series) -> list[str]:
    """Up to CLOSE_IDS ids that contain what was asked (a buyer, a number), else look alike."""
    containing = ids.filter(ids.str.contains(conversation, literal=True)).sort().head(CLOSE_IDS).to_list()
    if containing:
        return containing
    return difflib.get_close_matches(conversation, ids.to_list(), n=CLOSE_IDS, cutoff=0.3)


def _quoted(conversation: str) -> str:
    """An id as the user can type it back: quoted, its controls escaped once (repr doubled the
    backslash of each escape: 'buyer\\x1b[31m')."""
    return f"'{one_line(conversation)}'"


def conversation_rows(context: Context, ruleset: Ruleset, conversation: str) -> pl.DataFrame:
    """The conversation's events in order, each buyer message with its wait per set of reply
    roles (`wait_<roles>`) and, per reply rule, `rule_<code>`: the rule counts an item that
    starts at this message (its wait), else null; `outside_<code>`: an item would start here
    but the message falls outside the rule's window, so it is not counted. Raises AuditError
    when it is not there."""
    mine = context.events.filter(pl.col("conversation") == conversation)
    events = mine.sort("ts", "_order").collect()
    if events.is_empty():
        ids = context.events.select(pl.col("conversation").unique()).collect().get_column("conversation")
        # An id with a control character is printed escaped (buyer\x1b[2J#…); pasted back as
        # printed, it names that conversation.
        printed = [i for i in ids if i is not None and i != conversation and one_line(i) == conversation]
        if len(printed) == 1:
            return conversation_rows(context, ruleset, printed[0])
        near = close_ids(conversation, ids)
        if near:
            raise AuditError("error.conversation_not_found_close", conversation=_quoted(conversation), ids=listed(one_line(i) for i in near))
        raise AuditError("error.conversation_not_found", conversation=_quoted(conversation))
    shops = events.get_column("shop").unique().sort().to_list()
    if len(shops) > 1:  # two shops' chats under one id: one transcript of both would mix their waits
        raise AuditError("error.conversation_in_shops", conversation=_quoted(conversation), shops=listed(one_line(s) for s in shops))
    events = events.with_row_index("_row")
    # Waits are per conversation, so computing them on this conversation alone gives the rows
    # the rules count; the stream keeps (ts, input order), the order of `events` too.
    counted = events.filter((pl.col("role") == "buyer") & ~pl.col("spam")).get_column("_row")
    columns = []
    for roles in sorted({tuple(r.params["reply_roles"]) for r in ruleset.rules if r.check in REPLY_CHECKS}):
        waits = context.waits(roles).filter(pl.col("conversation") == conversation).collect()
        columns.append(
            pl.DataFrame({"_row": counted, f"wait_{'+'.join(roles)}": waits.get_column("wait")})
        )
    def item_rows(rule, name: str) -> pl.DataFrame:
        """`_row`, `rule_<name>` (the wait), `item_<name>`: each item of `rule` stands at the
        first message of the conversation with its start time."""
        items = reply_items(context, rule, "agent").filter(pl.col("conversation") == conversation).collect()
        return (
            events.filter(pl.col("_row").is_in(counted.implode()))
            .join(items.select("ts", pl.col("wait").alias(f"rule_{name}")).unique("ts"), on="ts", how="inner")
            .group_by("ts")
            .agg(pl.col("_row").min(), pl.col(f"rule_{name}").first(), pl.lit(True).alias(f"item_{name}"))
            .select("_row", f"rule_{name}", f"item_{name}")
        )

    for rule in ruleset.rules:
        if rule.check not in REPLY_CHECKS:
            continue
        starts = item_rows(rule, rule.code)
        columns.append(starts)
        # The messages outside the window that would otherwise count: a night question
        # answered at 08:05 waited hours and is no late item, which the transcript must say.
        # Per buyer-day every buyer message counts; otherwise, what the rule would count over
        # the whole day (each message, turn start or session start; its topic's alone), less
        # what it counts. (A buyer-day on a topic marks at most its worst message.)
        window = rule.params["window"]
        if rule.params["unit"] == "buyer_day" and not rule.params.get("topic"):
            whole = events.filter(pl.col("_row").is_in(counted.implode())).select("_row")
        else:
            whole = item_rows(replace(rule, params={**rule.params, "window": WHOLE_DAY}), "_whole").select("_row")
        outside = whole.join(starts, on="_row", how="anti").join(events.select("_row", "tod"), on="_row")
        outside = outside.filter((pl.col("tod") < window.start) | (pl.col("tod") >= window.end))
        columns.append(outside.select("_row", pl.lit(True).alias(f"outside_{rule.code}")))
    for extra in columns:
        events = events.join(extra, on="_row", how="left")
    return events.sort("_row")


def _marks(rule, row: dict, lang: str) -> str | None:
    if not row.get(f"item_{rule.code}"):
        return None
    wait = row[f"rule_{rule.code}"]
    if rule.check == "reply_rate":
        limit = rule.params["threshold"]
        late = wait is None or wait > limit
        return t("show.late", lang, code=rule.code, limit=f"{limit:g}") if late else t("show.on_time", lang, code=rule.code)
    # As the mean counts it (checks/average_wait.py): with a cap, a wait counts at most cap and
    # an unanswered item as cap; without one, an unanswered item is not in the mean at all.
    limit, cap = rule.params["max_seconds"], rule.params["cap"]
    if wait is None and cap is None:
        return None
    counted = cap if wait is None else min(wait, cap if cap is not None else wait)
    if counted > limit:
        return t("show.above_mean", lang, code=rule.code, limit=f"{limit:g}")
    return None


def render(rows: pl.DataFrame, findings: pl.DataFrame, ruleset: Ruleset, lang: str = "en", cut: str = "") -> str:
    """The transcript in `lang`: time (ruleset's zone), role, agent, text; under each buyer
    message its wait and the reply rules' marks; under each message the findings at its time.
    `cut`: the shop prefix its agents are shown without, decided over the whole shop as the
    reports decide it (names.report_cuts), not over this conversation's few names."""
    tz = ruleset.timezone
    findings = findings.with_columns(pl.col("ts").dt.convert_time_zone(tz))
    reply_rules = [r for r in ruleset.rules if r.check in REPLY_CHECKS]
    first, last = rows.get_column("ts").min(), rows.get_column("ts").max()
    head = rows.row(0, named=True)
    lines = [
        t(
            "show.header",
            lang,
            conversation=one_line(head["conversation"]),
            shop=one_line(head["shop"]),
            buyer=one_line(head["buyer"]),
            first=f"{first:%Y-%m-%d %H:%M:%S}",
            last=f"{last:%m-%d %H:%M:%S}" if last.date() != first.date() else f"{last:%H:%M:%S}",
            tz=tz,
        ),
        t("show.rules", lang, rules=t("list.sep", lang).join(r.code for r in reply_rules)),
        "",
    ]
    wait_columns = [c for c in rows.columns if c.startswith("wait_")]
    placed: set[int] = set()
    by_ts: dict = {}
    for index, f in enumerate(findings.iter_rows(named=True)):
        if f["ts"] is not None:
            by_ts.setdefault(f["ts"].replace(tzinfo=None), []).append(index)
    finding_rows = findings.rows(named=True)
    multi_day = first.date() != last.date()
    # The header names the shop: a Taobao sub-account goes without it (客服05, not
    # 淘宝甲店:客服05), as in the reports, and the text column starts after the longest name.
    agents = rows.get_column("agent")
    names = {agent: sentinel_name(agent, lang) or one_line(in_shop(agent, cut)) for agent in agents.drop_nulls().unique().to_list()}
    name_width = min(NAME_MAX, max([NAME_MIN, *(cell_len(n) for n in names.values())]))
    for row in rows.iter_rows(named=True):
        when = row["ts"].strftime("%m-%d %H:%M:%S" if multi_day else "%H:%M:%S")
        who = names.get(row["agent"], "")
        role = t(f"show.role.{row['role']}", lang) + (f" {t('show.spam', lang)}" if row["spam"] else "")
        text = row["text"] if row["text"] is not None else (t(f"show.rating.{row['rating']}", lang) if row["rating"] else "")
        if row["reason"]:
            text = t("show.with_reason", lang, text=text, reason=row["reason"])
        lead = f"{when}  {_padded(role, 8)} {_padded(who, name_width)} "
        body = terminal_safe(text).replace("\n", "\n" + " " * cell_len(lead))
        lines.append(lead + body)
        notes: list[str] = []
        if row["role"] == "buyer" and not row["spam"]:
            waits = [row[c] for c in wait_columns]
            if waits:
                # One figure when every set of reply roles gives the same wait.
                if len(set(waits)) == 1:
                    shown = wait_text(waits[0], lang)
                else:
                    shown = " / ".join(
                        t("show.wait_by", lang, wait=wait_text(w, lang), roles=_roles(c[5:], lang))
                        for c, w in zip(wait_columns, waits, strict=True)
                    )
                notes.append(t("show.wait", lang, wait=shown))
            notes += [m for m in (_marks(rule, row, lang) for rule in reply_rules) if m]
            notes += _outside(reply_rules, row, lang)
        if notes:
            lines.append(" " * 10 + " · ".join(notes))
        for index in by_ts.get(row["ts"].replace(tzinfo=None), []):
            if index in placed:
                continue
            placed.add(index)
            f = finding_rows[index]
            lines.append(" " * 10 + _finding(f, lang))
    rest = [f for i, f in enumerate(finding_rows) if i not in placed]
    if rest:
        lines += ["", t("show.other_findings", lang)]
        lines += [" " * 2 + _finding(f, lang) for f in rest]
    return "\n".join(lines) + "\n"


def _outside(rules, row: dict, lang: str) -> list[str]:
    """`PDD-R3，PDD-R5 不计（08:00–23:00 以外）`: the rules, by window, that do not count the item
    this message would start, because it falls outside their window."""
    by_window: dict[str, list[str]] = {}
    for rule in rules:
        if row.get(f"outside_{rule.code}"):
            by_window.setdefault(rule.params["window"].label(), []).append(rule.code)
    return [t("show.outside", lang, codes=t("list.sep", lang).join(codes), window=label) for label, codes in by_window.items()]


def _roles(roles: str, lang: str) -> str:
    """A set of reply roles (`agent+bot`, the wait column's suffix) in the transcript's words."""
    return "+".join(t(f"show.role.{role}", lang) for role in roles.split("+"))


def _padded(text: str, width: int) -> str:
    """`text` padded to `width` terminal cells (a Chinese character takes two)."""
    return text + " " * max(0, width - cell_len(text))


def _finding(f: dict, lang: str) -> str:
    return t("show.finding", lang, code=f["code"], severity=t(f"severity.{f['severity']}", lang), message=one_line(in_lang(f, lang)))


def conversation_findings(findings: pl.DataFrame, conversation: str) -> pl.DataFrame:
    return findings.filter(pl.col("conversation") == conversation)

