"""Property tests: waits, turns, attribution and reply rates against a plain-Python reference.

The reference below is written straight from spec/metrics.md §1–§4 with simple loops over
plain tuples (no polars), so it can be read line by line against the spec:

- rows are ordered by `ts` within a conversation, ties keep input order (§1);
- spam buyer messages, `system` and `review` rows neither start nor answer anything; a reply
  is a message whose role is in `reply_roles` (§3);
- wait(m) = time from m to the first reply after m in the same conversation, None if none;
- a turn is a maximal run of buyer messages with no reply between them;
- attribution: the replying agent; unanswered -> the `agent` on the turn's last buyer row,
  else the agent of the conversation's latest earlier reply, else `(unassigned)` (§3);
- reply-rate items per unit, window decided by the start event, rate = on_time / counted,
  per shop and per agent (buyer_day per (buyer, day, agent) at agent scope) (§2, §4).
- long no-reply (§5): per turn the same-day, max_wait and topic-deadline clauses, pending
  while the data does not reach a deadline, one occurrence per turn however many clauses
  hold, and a rule that yields to another leaves it the turns that rule counts late.

Transcripts are random: a few conversations (several may share a shop and buyer), offsets
in whole seconds (few distinct instants, so ties are common), every role, spam flags on buyer
rows, buyer rows routed to a sub-account or not, robots with and without an account, and
times centred on a window edge (08:00, 10:00, 10:01, 23:00) or midnight. Rate examples draw
thresholds among the waits that occur (so `wait == threshold` is tried) and windows that cut
through the transcript.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from cservice_audit import load as loader
from cservice_audit.audit import AuditOptions, run_audit
from cservice_audit.metrics.waits import message_waits
from cservice_audit.normalize import Aliases, assign_conversations, normalize
from cservice_audit.ruleset import load_file

TZ = "Asia/Shanghai"
# No explain phase: it re-runs failing examples many times and each run costs tens of ms.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
UNASSIGNED = "(unassigned)"
BOT_WITHOUT_ACCOUNT = "(bot)"
# The run's time: after every generated day, so no day is still running (the same-day clause
# of long no-reply is pending on a day the run's clock has not finished, c4ba049), as in
# test_cases.py. 2026-11-23 02:00 UTC was 10:00 on the data's last day in Shanghai.
FIXED_NOW = datetime(2026, 12, 31, 2, 0, tzinfo=timezone.utc)

# Every transcript is centred on a window edge (08:00, 10:00, 10:01, 23:00) or midnight:
# its times are edge + (offset - 4) * step for offsets 0..8, so they fall before, on and
# after the edge, and a message exactly on it is common.
EDGE_TIMES = [
    datetime(2026, 11, 22, 8, 0),
    datetime(2026, 11, 22, 10, 0),
    datetime(2026, 11, 22, 10, 1),
    datetime(2026, 11, 22, 23, 0),
    datetime(2026, 11, 23, 0, 0),
]
OFFSETS = [4, 0, 1, 2, 3, 5, 6, 7, 8, 4, 4]  # on the edge more often than elsewhere
EDGES = ["00:00", "08:00", "10:00", "10:01", "23:00", "24:00"]  # window starts and ends
ROLE_SETS = {"A": ("agent",), "AB": ("agent", "bot")}
UNITS = ("message", "turn", "buyer_day", "conversation")
UNIT_CODES = {"message": "MSG", "turn": "TURN", "buyer_day": "BD", "conversation": "CONV"}


# --------------------------------------------------------------------------------------
# Transcripts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    order: int  # input order (0-based line of the CSV body)
    conversation: str
    shop: str
    buyer: str
    ts: datetime  # naive local time (Asia/Shanghai, no DST)
    role: str
    agent: str | None  # as written in the export (None = blank)
    spam: bool
    text: str


@dataclass(frozen=True)
class Transcript:
    rows: tuple[Row, ...]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["ts", "shop", "buyer", "conversation", "role", "agent", "text", "spam", "rating"])
        for r in self.rows:
            writer.writerow(
                [
                    r.ts.strftime("%Y-%m-%d %H:%M:%S"),
                    r.shop,
                    r.buyer,
                    r.conversation,
                    r.role,
                    r.agent or "",
                    r.text,
                    "true" if r.spam else "false",
                    "satisfied" if r.role == "review" else "",
                ]
            )
        return out.getvalue()

    def show(self) -> str:
        return "\n" + "\n".join(
            f"  #{r.order} {r.conversation} ({r.shop},{r.buyer}) {r.ts:%m-%d %H:%M:%S} {r.role}"
            f"{' SPAM' if r.spam else ''} agent={r.agent} {r.text}"
            for r in self.rows
        )


@st.composite
def transcripts(draw) -> Transcript:
    edge = draw(st.sampled_from(EDGE_TIMES))
    # Few distinct instants, so ties between a buyer message and a reply are common; the
    # step varies so waits land on both sides of thresholds.
    step = draw(st.sampled_from([1, 2, 4]))
    n_conv = draw(st.integers(1, 4))
    owners = [
        (draw(st.sampled_from(["s1", "s2"])), draw(st.sampled_from(["b1", "b2", "b3"]))) for _ in range(n_conv)
    ]
    raw = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_conv - 1),
                st.sampled_from(OFFSETS),
                st.sampled_from(["buyer", "buyer", "buyer", "agent", "agent", "bot", "bot", "system", "review"]),
                st.sampled_from([False, False, False, True]),  # spam (buyer rows only)
                st.sampled_from([None, None, "A", "B", "C"]),  # routed agent / agent account
                st.sampled_from([None, "R1"]),  # robot account
            ),
            min_size=2,
            max_size=24,
        )
    )
    rows = []
    for i, (c, offset, role, spam, agent, bot_account) in enumerate(raw):
        shop, buyer = owners[c]
        if role in ("agent", "review"):
            agent = agent or "A"  # these rows always name the sub-account
        elif role == "bot":
            agent = bot_account
        elif role == "system":
            agent = None
        rows.append(
            Row(
                order=i,
                conversation=f"c{c}",
                shop=shop,
                buyer=buyer,
                ts=edge + timedelta(seconds=(offset - 4) * step),
                role=role,
                agent=agent,
                spam=spam and role == "buyer",
                text=f"m{i}",  # unique, so no row is ever an exact duplicate
            )
        )
    return Transcript(tuple(rows))


def _transcript(*rows: tuple[str, str, int, str, str | None]) -> Transcript:
    """Hand-written transcripts: (conversation, buyer, seconds after 10:00, role, agent)."""
    base = datetime(2026, 11, 22, 10, 0, 0)
    return Transcript(
        tuple(
            Row(i, conv, "s1", buyer, base + timedelta(seconds=sec), role, agent, False, f"m{i}")
            for i, (conv, buyer, sec, role, agent) in enumerate(rows)
        )
    )


# An unanswered turn whose last buyer row is not routed must not take the routed agent of
# another conversation (spec §3: "the agent on its last buyer row", else the conversation's
# latest earlier reply, else (unassigned)). The product once filled it backward from the next
# routed turn in its stream, whatever the conversation; two unrouted conversations around the
# routed one make that show in nearly any order the stream puts conversations in.
NOT_ROUTED_UNANSWERED = _transcript(
    ("c0", "b1", 0, "agent", "B"),
    ("c0", "b1", 5, "buyer", None),  # -> B (latest earlier reply)
    ("c1", "b2", 0, "buyer", "A"),  # -> A (routed)
    ("c2", "b3", 0, "buyer", None),  # -> (unassigned)
)


# Ties (spec §1, §3): rows at the same second keep input order, so a reply written after
# the buyer message answers it (wait 0) and one written before it does not.
TIES = _transcript(
    ("c0", "b1", 0, "agent", "A"),
    ("c0", "b1", 0, "buyer", None),  # answered by B, wait 0
    ("c0", "b1", 0, "agent", "B"),
    ("c0", "b1", 3, "buyer", None),  # unanswered, a new turn
)


# --------------------------------------------------------------------------------------
# The reference (spec/metrics.md §3), plain Python
# --------------------------------------------------------------------------------------


@dataclass
class RefMessage:
    text: str
    shop: str
    buyer: str
    conversation: str
    ts: datetime
    wait: float | None
    turn: int  # 0-based index of the turn within its conversation
    turn_start: bool
    conversation_start: bool
    agent: str


def reference_waits(transcript: Transcript, reply_roles: tuple[str, ...]) -> dict[str, RefMessage]:
    """Every non-spam buyer message, by its (unique) text."""
    result: dict[str, RefMessage] = {}
    conversations = sorted({r.conversation for r in transcript.rows})
    for conv in conversations:
        ordered = sorted((r for r in transcript.rows if r.conversation == conv), key=lambda r: (r.ts, r.order))

        def is_buyer(r: Row) -> bool:
            return r.role == "buyer" and not r.spam

        def is_reply(r: Row) -> bool:
            return r.role in reply_roles

        def reply_agent(r: Row) -> str:
            return r.agent if r.agent is not None else BOT_WITHOUT_ACCOUNT

        # Turns: maximal runs of counted buyer messages with no reply between them.
        turns: list[list[int]] = []  # indexes into `ordered`
        in_turn = False
        for i, r in enumerate(ordered):
            if is_reply(r):
                in_turn = False
            elif is_buyer(r):
                if not in_turn:
                    turns.append([])
                    in_turn = True
                turns[-1].append(i)
            # everything else (spam, system, review, non-reply robots) is invisible

        first_buyer_seen = False
        for turn_index, members in enumerate(turns):
            # The first reply after the turn's last message; it is also the first reply after
            # each of its messages, since no reply lies between them.
            answer = next((ordered[j] for j in range(members[-1] + 1, len(ordered)) if is_reply(ordered[j])), None)
            if answer is not None:
                owner = reply_agent(answer)
            else:
                last_buyer_row = ordered[members[-1]]
                earlier = [ordered[j] for j in range(members[0]) if is_reply(ordered[j])]
                if last_buyer_row.agent is not None:
                    owner = last_buyer_row.agent
                elif earlier:
                    owner = reply_agent(earlier[-1])
                else:
                    owner = UNASSIGNED
            for k, i in enumerate(members):
                m = ordered[i]
                # wait(m): directly from the definition, the first reply after m.
                first_reply = next((ordered[j] for j in range(i + 1, len(ordered)) if is_reply(ordered[j])), None)
                wait = None if first_reply is None else (first_reply.ts - m.ts).total_seconds()
                result[m.text] = RefMessage(
                    text=m.text,
                    shop=m.shop,
                    buyer=m.buyer,
                    conversation=conv,
                    ts=m.ts,
                    wait=wait,
                    turn=turn_index,
                    turn_start=k == 0,
                    conversation_start=not first_buyer_seen,
                    agent=owner,
                )
                first_buyer_seen = True
    return result


# --------------------------------------------------------------------------------------
# The reference (spec/metrics.md §2, §4): reply-rate numerator / denominator
# --------------------------------------------------------------------------------------


def clock(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 3600 + int(m) * 60


def reference_rates(
    messages: dict[str, RefMessage], unit: str, threshold: float, window: tuple[str, str]
) -> dict[tuple, tuple[int, int]]:
    """(scope, shop, agent, day) -> (on time, counted)."""
    start, end = clock(window[0]), clock(window[1])

    def inside(m: RefMessage) -> bool:
        seconds = m.ts.hour * 3600 + m.ts.minute * 60 + m.ts.second
        return start <= seconds < end

    def on_time(wait: float | None) -> bool:
        return wait is not None and wait <= threshold

    # items: (scope, shop, agent, day, on_time)
    items: list[tuple[str, str, str | None, date, bool]] = []
    counted = [m for m in messages.values() if inside(m)]
    if unit == "message":
        chosen = counted
    elif unit == "turn":
        chosen = [m for m in counted if m.turn_start]
    elif unit == "conversation":
        chosen = [m for m in counted if m.conversation_start]
    else:
        chosen = []
    for m in chosen:
        ok = on_time(m.wait)
        items.append(("shop", m.shop, None, m.ts.date(), ok))
        items.append(("agent", m.shop, m.agent, m.ts.date(), ok))
    if unit == "buyer_day":
        shop_days: dict[tuple, list[RefMessage]] = {}
        agent_days: dict[tuple, list[RefMessage]] = {}
        for m in counted:
            shop_days.setdefault((m.shop, m.buyer, m.ts.date()), []).append(m)
            agent_days.setdefault((m.shop, m.buyer, m.ts.date(), m.agent), []).append(m)
        for (shop, _buyer, day), ms in shop_days.items():
            items.append(("shop", shop, None, day, all(on_time(m.wait) for m in ms)))
        for (shop, _buyer, day, agent), ms in agent_days.items():
            items.append(("agent", shop, agent, day, all(on_time(m.wait) for m in ms)))

    totals: dict[tuple, tuple[int, int]] = {}
    for scope, shop, agent, day, ok in items:
        num, den = totals.get((scope, shop, agent, day), (0, 0))
        totals[(scope, shop, agent, day)] = (num + int(ok), den + 1)
    return totals


# --------------------------------------------------------------------------------------
# Running the product
# --------------------------------------------------------------------------------------


def product_waits(transcript: Transcript, reply_roles: tuple[str, ...]) -> pl.DataFrame:
    """load -> normalize -> assign_conversations -> message_waits, as the audit does."""
    tables = loader.load(["-"], stdin=io.BytesIO(transcript.csv_text().encode("utf-8")))
    normalized = normalize(tables, Aliases.shipped(), tz=TZ)
    events, rejects = pl.collect_all([normalized.events, normalized.rejects])
    assert rejects.height == 0, f"generator wrote rows normalize rejects: {rejects}"
    assert events.height == len(transcript.rows) and not events.get_column("_duplicate").any()
    events = assign_conversations(events.lazy().filter(~pl.col("_duplicate")), None)
    return message_waits(events, reply_roles).collect()


def rule_code(unit: str, roles: str) -> str:
    return f"T-{UNIT_CODES[unit]}{roles}"  # e.g. T-MSGA, T-BDAB


def product_rates(
    transcript: Transcript, threshold: int, window: tuple[str, str]
) -> dict[str, dict[tuple, tuple[float, int]]]:
    rules = [
        {
            "code": rule_code(unit, roles),
            "name": f"{unit}-{roles}",
            "check": "reply_rate",
            "confidence": "assumed",
            "params": {
                "unit": unit,
                "threshold": threshold,
                "min_rate": 0.8,
                "reply_roles": list(reply_roles),
                "window": {"start": window[0], "end": window[1]},
            },
        }
        for unit in UNITS
        for roles, reply_roles in ROLE_SETS.items()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        ruleset_path = Path(tmp) / "ruleset.yaml"
        ruleset_path.write_text(yaml.safe_dump({"extends": "pinduoduo", "rules": rules}), "utf-8")
        ruleset = load_file(ruleset_path).selected(["T-"], None)
        events = Path(tmp) / "events.csv"
        events.write_text(transcript.csv_text(), "utf-8")
        result = run_audit([str(events)], ruleset, AuditOptions(), generated_at=FIXED_NOW, stdin=io.BytesIO())
    assert result.input.rows_rejected == 0 and result.input.rows_duplicate == 0
    out: dict[str, dict[tuple, tuple[float, int]]] = {r["code"]: {} for r in rules}
    for row in result.metrics.iter_rows(named=True):
        assert row["period_start"] == row["period_end"], row  # period: day
        key = (row["scope"], row["shop"], row["agent"], row["period_start"])
        assert key not in out[row["rule"]], f"two metric rows for {row['rule']} {key}"
        out[row["rule"]][key] = (row["numerator"], row["denominator"])
    return out


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


def _first_seen_ids(values: list) -> list[int]:
    """Relabel values by order of first appearance: compares partitions, not labels."""
    seen: dict = {}
    return [seen.setdefault(v, len(seen)) for v in values]


def _actual_by_text(frame: pl.DataFrame) -> dict[str, dict]:
    rows = {}
    for row in frame.iter_rows(named=True):
        assert row["text"] not in rows, f"message {row['text']} appears twice"
        rows[row["text"]] = row
    return rows


@settings(max_examples=100, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=transcripts(), roles=st.sampled_from(sorted(ROLE_SETS)))
@example(transcript=TIES, roles="A")
def test_waits_and_turns_match_reference(transcript: Transcript, roles: str) -> None:
    """§3: one row per non-spam buyer message; its wait, turn (start and membership),
    conversation start and local ts/day, for replies by agents only and by agents or bots."""
    reply_roles = ROLE_SETS[roles]
    expected = reference_waits(transcript, reply_roles)
    actual = _actual_by_text(product_waits(transcript, reply_roles))
    context = f"reply_roles={reply_roles}{transcript.show()}"

    assert sorted(actual) == sorted(expected), f"counted messages differ; {context}"
    for text, want in expected.items():
        got = actual[text]
        where = f"message {text}; {context}"
        assert got["conversation"] == want.conversation and got["shop"] == want.shop and got["buyer"] == want.buyer, where
        assert got["ts"].replace(tzinfo=None) == want.ts and got["day"] == want.ts.date(), f"ts/day of {where}"
        assert got["wait"] == want.wait, f"wait {got['wait']} != {want.wait} for {where}"
        assert got["turn_start"] == want.turn_start, f"turn_start {got['turn_start']} != {want.turn_start} for {where}"
        assert got["conversation_start"] == want.conversation_start, f"conversation_start of {where}"
    # Turn membership: the same messages share a turn, conversation by conversation.
    for conv in {m.conversation for m in expected.values()}:
        texts = sorted((m for m in expected.values() if m.conversation == conv), key=lambda m: (m.ts, int(m.text[1:])))
        want_turns = [m.turn for m in texts]
        got_turns = _first_seen_ids([actual[m.text]["turn"] for m in texts])
        assert got_turns == want_turns, f"turns of {conv}: {got_turns} != {want_turns}; {context}"


@settings(max_examples=100, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=transcripts(), roles=st.sampled_from(sorted(ROLE_SETS)))
@example(transcript=NOT_ROUTED_UNANSWERED, roles="A")
@example(transcript=TIES, roles="A")
def test_attribution_matches_reference(transcript: Transcript, roles: str) -> None:
    """§3 attribution: the replying agent; unanswered -> agent on the turn's last buyer row,
    else the conversation's latest earlier reply, else (unassigned)."""
    reply_roles = ROLE_SETS[roles]
    expected = reference_waits(transcript, reply_roles)
    actual = _actual_by_text(product_waits(transcript, reply_roles))
    assert sorted(actual) == sorted(expected)
    for text, want in expected.items():
        got = actual[text]["agent"]
        assert got == want.agent, (
            f"agent {got!r} != {want.agent!r} for message {text} (wait {want.wait}); "
            f"reply_roles={reply_roles}{transcript.show()}"
        )


def check_rates(transcript: Transcript, threshold: int, window: tuple[str, str]) -> None:
    actual = product_rates(transcript, threshold, window)
    for roles, reply_roles in ROLE_SETS.items():
        messages = reference_waits(transcript, reply_roles)
        for unit in UNITS:
            code = rule_code(unit, roles)
            assert all(float(n) == int(n) for n, _ in actual[code].values()), actual[code]
            got = {k: (int(n), d) for k, (n, d) in actual[code].items()}
            want = reference_rates(messages, unit, threshold, window)
            assert got == want, (
                f"{code} threshold={threshold} window={window}: product {got} != reference {want}"
                f"{transcript.show()}"
            )


def thresholds_for(transcript: Transcript) -> st.SearchStrategy[int]:
    """Mostly a wait that occurs in the transcript, so `wait == threshold` (on time) is tried."""
    waits = sorted(
        {int(m.wait) for roles in ROLE_SETS.values() for m in reference_waits(transcript, roles).values() if m.wait is not None}
    )
    anywhere = st.integers(0, 45)
    return st.one_of(st.sampled_from(waits), anywhere) if waits else anywhere


def windows_for(transcript: Transcript) -> st.SearchStrategy[tuple[str, str]]:
    """All day, or a window with an edge among the transcript's times (so it cuts through it)."""
    times = [r.ts.hour * 3600 + r.ts.minute * 60 + r.ts.second for r in transcript.rows]
    near = [e for e in EDGES if any(abs(clock(e) - t) <= 20 for t in times)]
    cutting = [(a, b) for a in EDGES for b in EDGES if clock(a) < clock(b) and (a in near or b in near)]
    return st.sampled_from([("00:00", "24:00"), *cutting])


@settings(max_examples=40, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=transcripts(), data=st.data())
def test_reply_rates_match_reference(transcript: Transcript, data: st.DataObject) -> None:
    """§2/§4: per unit and reply_roles, the shop and agent numerator/denominator of every day."""
    threshold = data.draw(thresholds_for(transcript), label="threshold")
    window = data.draw(windows_for(transcript), label="window")
    check_rates(transcript, threshold, window)


def test_reply_rates_routed_leak_regression() -> None:
    """The routed-agent leak (fixed in 757ab23) at agent scope: B, A and (unassigned)."""
    check_rates(NOT_ROUTED_UNANSWERED, 60, ("00:00", "24:00"))


# --------------------------------------------------------------------------------------
# Long no-reply (spec/metrics.md §5): three clauses, one occurrence per turn
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoReplyRule:
    code: str
    same_day: bool
    max_wait: int | None
    topic: tuple[str, ...] | None
    topic_deadline: int | None
    yield_to: tuple[str, ...] = ()

    def params(self, roles: tuple[str, ...], window: tuple[str, str]) -> dict:
        params = {
            "same_day": self.same_day,
            "reply_roles": list(roles),
            "window": {"start": window[0], "end": window[1]},
            "period": "day",
        }
        if self.max_wait is not None:
            params["max_wait"] = self.max_wait
        if self.topic is not None:
            params["topic"] = list(self.topic)
            params["topic_deadline"] = self.topic_deadline
        if self.yield_to:
            params["yield_to"] = list(self.yield_to)
        return params


def reference_turn_verdicts(
    messages: dict[str, RefMessage], rule: NoReplyRule, window: tuple[str, str], data_ends: dict[str, datetime]
) -> dict[tuple[str, int], tuple[RefMessage, bool, bool]]:
    """(conversation, turn) -> (first message, late, pending) for the turns the rule looks at,
    straight from spec §5, before any yielding."""
    start, end = clock(window[0]), clock(window[1])
    turns: dict[tuple[str, int], list[RefMessage]] = {}
    for m in messages.values():
        turns.setdefault((m.conversation, m.turn), []).append(m)
    verdicts = {}
    for key, members in turns.items():
        first = next(m for m in members if m.turn_start)
        seconds = first.ts.hour * 3600 + first.ts.minute * 60 + first.ts.second
        inside = start <= seconds < end
        reply = None if first.wait is None else first.ts + timedelta(seconds=first.wait)
        looked_at, late, pending = False, False, False

        def deadline_clause(deadline: datetime) -> tuple[bool, bool]:
            if reply is not None:
                return reply > deadline, False
            # "the data" is the shop's own: its last timestamp (another shop's says nothing)
            data_end = data_ends[first.shop]
            return data_end >= deadline, data_end < deadline

        if rule.same_day and inside:
            looked_at = True
            midnight = datetime.combine(first.ts.date() + timedelta(days=1), datetime.min.time())
            late |= reply is None or reply >= midnight
        if rule.topic is not None and inside and any(p in m.text for m in members for p in rule.topic):
            looked_at = True
            is_late, is_pending = deadline_clause(first.ts + timedelta(seconds=rule.topic_deadline))
            late, pending = late or is_late, pending or is_pending
        if rule.max_wait is not None:
            looked_at = True
            is_late, is_pending = deadline_clause(first.ts + timedelta(seconds=rule.max_wait))
            late, pending = late or is_late, pending or is_pending
        if looked_at:
            verdicts[key] = (first, late, pending and not late)
    return verdicts


def reference_no_reply(
    transcript: Transcript, rules: list[NoReplyRule], roles: tuple[str, ...], window: tuple[str, str]
) -> tuple[dict, dict]:
    """Per rule: (scope, shop, agent, day) -> (occurrences, turns looked at), and the set of
    reported turns (conversation, first ts, agent, severity)."""
    messages = reference_waits(transcript, roles)
    data_ends: dict[str, datetime] = {}
    for r in transcript.rows:
        data_ends[r.shop] = max(data_ends.get(r.shop, r.ts), r.ts)
    own = {rule.code: reference_turn_verdicts(messages, rule, window, data_ends) for rule in rules}
    tallies, reported = {}, {}
    for rule in rules:
        taken = {key for code in rule.yield_to for key, (_, late, _) in own[code].items() if late}
        totals: dict[tuple, tuple[int, int]] = {}
        found = set()
        for key, (first, late, pending) in own[rule.code].items():
            late, pending = (False, False) if key in taken else (late, pending)
            for scope_key in (("shop", first.shop, None), ("agent", first.shop, first.agent)):
                k = (*scope_key, first.ts.date())
                num, den = totals.get(k, (0, 0))
                totals[k] = (num + int(late), den + 1)
            if late or pending:
                found.add((first.conversation, first.ts, first.agent, "error" if late else "info"))
        tallies[rule.code], reported[rule.code] = totals, found
    return tallies, reported


def product_no_reply(
    transcript: Transcript, rules: list[NoReplyRule], roles: tuple[str, ...], window: tuple[str, str]
) -> tuple[dict, dict]:
    ruleset = {
        "extends": "pinduoduo",
        "rules": [
            {"code": r.code, "name": r.code.lower(), "check": "long_no_reply", "confidence": "assumed", "params": r.params(roles, window)}
            for r in rules
        ],
    }
    last_day = max(r.ts for r in transcript.rows).date()
    with tempfile.TemporaryDirectory() as tmp:
        ruleset_path = Path(tmp) / "ruleset.yaml"
        ruleset_path.write_text(yaml.safe_dump(ruleset), "utf-8")
        loaded = load_file(ruleset_path).selected(["T-"], None)
        events = Path(tmp) / "events.csv"
        events.write_text(transcript.csv_text(), "utf-8")
        result = run_audit([str(events)], loaded, AuditOptions(until=last_day), generated_at=FIXED_NOW, stdin=io.BytesIO())
    tallies: dict[str, dict] = {r.code: {} for r in rules}
    for row in result.metrics.iter_rows(named=True):
        key = (row["scope"], row["shop"], row["agent"], row["period_start"])
        tallies[row["rule"]][key] = (int(row["numerator"]), row["denominator"])
    reported: dict[str, set] = {r.code: set() for r in rules}
    for row in result.findings.filter(pl.col("conversation").is_not_null()).iter_rows(named=True):
        ts = row["ts"].astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None)
        reported[row["code"]].add((row["conversation"], ts, row["agent"], row["severity"]))
    return tallies, reported


def deadlines_for(transcript: Transcript) -> st.SearchStrategy[int]:
    """Mostly a wait that occurs (so `wait == deadline`, in time, is tried), or one the data
    may not reach (pending)."""
    return thresholds_for(transcript)


@settings(max_examples=40, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=transcripts(), roles=st.sampled_from(sorted(ROLE_SETS)), data=st.data())
def test_long_no_reply_matches_reference(transcript: Transcript, roles: str, data: st.DataObject) -> None:
    """§5: same day, max_wait (pending until the data reaches it) and topic deadline; one
    occurrence per turn; a rule yielding to another leaves it the turns that rule counts late."""
    window = data.draw(windows_for(transcript), label="window")
    max_wait = data.draw(deadlines_for(transcript), label="max_wait")
    topic_deadline = data.draw(deadlines_for(transcript), label="topic_deadline")
    topic = (data.draw(st.sampled_from(["m1", "m2", "m"]), label="topic"),)  # "m" matches every turn
    rules = [
        NoReplyRule("T-Q", same_day=False, max_wait=None, topic=topic, topic_deadline=topic_deadline),
        NoReplyRule("T-N", same_day=True, max_wait=max_wait, topic=None, topic_deadline=None, yield_to=("T-Q",)),
        NoReplyRule("T-S", same_day=True, max_wait=None, topic=None, topic_deadline=None),
        NoReplyRule("T-ALL", same_day=True, max_wait=max_wait, topic=topic, topic_deadline=topic_deadline),
    ]
    reply_roles = ROLE_SETS[roles]
    got_tallies, got_reported = product_no_reply(transcript, rules, reply_roles, window)
    want_tallies, want_reported = reference_no_reply(transcript, rules, reply_roles, window)
    for rule in rules:
        where = f"{rule.code} roles={reply_roles} window={window} max_wait={max_wait} topic={topic}/{topic_deadline}{transcript.show()}"
        assert got_tallies[rule.code] == want_tallies[rule.code], f"tallies: {got_tallies[rule.code]} != {want_tallies[rule.code]}; {where}"
        assert got_reported[rule.code] == want_reported[rule.code], f"findings: {got_reported[rule.code]} != {want_reported[rule.code]}; {where}"
