"""A question a night leaves pending (PDD-N1's 24-hour clause) is judged by the next night.

The nightly flow audits one day's export with history: a question asked at 23:30 and not
answered when the export ends waits for 24 hours that end tomorrow, and tomorrow's export
does not hold it. The history keeps the conversations still open beside the day
(carry.py), and the next night judges them with its own data: exactly once, on that night.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import polars as pl

HEADER = "时间,店铺,买家,角色,客服,内容\n"
NIGHT_16 = HEADER + (
    "2026-11-16 10:00:00,店A,买家1,buyer,,在吗\n"
    "2026-11-16 10:00:30,店A,买家1,agent,小美,在的亲\n"
    "2026-11-16 23:30:00,店A,买家2,buyer,,能开专票吗\n"  # never answered: late on the 17th
    "2026-11-16 23:40:00,店A,买家3,buyer,,发货了吗\n"  # answered 09:00 the 17th: in time
    "2026-11-16 23:50:00,店A,买家1,buyer,,好的谢谢\n"  # never answered; 小美 served this buyer
)
NIGHT_17 = HEADER + (
    "2026-11-17 09:00:00,店A,买家3,agent,小美,亲已经发货了\n"
    "2026-11-17 10:00:00,店A,买家4,buyer,,在吗\n"
    "2026-11-17 10:00:20,店A,买家4,agent,小小,在的亲\n"
    "2026-11-17 23:59:00,店A,买家4,buyer,,好\n"
)
# The 17th of a shop that went quiet at 20:00: the 23:30 and 23:50 deadlines are not reached.
QUIET_17 = HEADER + (
    "2026-11-17 09:00:00,店A,买家3,agent,小美,亲已经发货了\n"
    "2026-11-17 20:00:00,店A,买家4,buyer,,在吗\n"
    "2026-11-17 20:00:20,店A,买家4,agent,小小,在的亲\n"
)
# The 18th of a shop open until midnight: its data reaches the 17th's 23:59 deadline.
LATE_18 = HEADER + (
    "2026-11-18 10:00:00,店A,买家5,buyer,,在吗\n"
    "2026-11-18 10:00:20,店A,买家5,agent,小小,在的亲\n"
    "2026-11-18 23:59:30,店A,买家6,buyer,,还在吗\n"
)
NIGHT_18 = HEADER + (
    "2026-11-18 10:00:00,店A,买家5,buyer,,在吗\n"
    "2026-11-18 10:00:20,店A,买家5,agent,小小,在的亲\n"
)


def _night(cli, history: Path, day: str, export: Path, baseline: Path | None = None):
    args = ["audit", export, "-p", "pinduoduo", "--history", history, "--date", day, "-f", "json", "-o", f"r{day}.json"]
    if baseline is not None:
        args += ["--baseline", baseline]
    run = cli(*args)
    assert run.code in (0, 1), run.err
    return run, json.loads((cli.cwd / f"r{day}.json").read_text("utf-8"))


def _n1(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "PDD-N1"]


def _shop_n1(report: dict) -> float:
    (row,) = [m for m in report["metrics"] if m["rule"] == "PDD-N1" and m["scope"] == "shop"]
    return row["numerator"]


def test_a_question_pending_at_night_is_judged_by_the_next_night_once(cli, write, tmp_path):
    history = tmp_path / "h"
    night16, report16 = _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    assert [f["severity"] for f in _n1(report16)] == ["info"] * 3  # all three wait for their 24 hours
    assert night16.code == 0

    night17, report17 = _night(cli, history, "2026-11-17", write("17.csv", NIGHT_17), baseline=tmp_path / "r2026-11-16.json")
    late = [f for f in _n1(report17) if f["severity"] == "error"]
    assert [(f["ts"], f["day"], f["agent"], f["state"], f["points"]) for f in late] == [
        ("2026-11-16T23:30:00+08:00", "2026-11-17", "(unassigned)", "new", -10),
        ("2026-11-16T23:50:00+08:00", "2026-11-17", "小美", "new", -10),
    ]
    assert all("never answered (no reply within 24 h)" in f["message"] for f in late)
    assert night17.code == 1  # new findings: the night the group hears of them
    assert "3 questions not yet due when the audit of 2026-11-16 ended were judged with this data: 2 late (counted on 2026-11-17), 0 still pending" in night17.err
    # The 30 days count them as the same two days audited together do.
    both = cli("audit", tmp_path / "16.csv", tmp_path / "17.csv", "-p", "pinduoduo", "--no-history", "--since", "2026-11-16", "-f", "json")
    assert _shop_n1(report17) == _shop_n1(json.loads(both.out)) == 2

    # Running the night again counts them once, known against the first run's report.
    again, report_again = _night(cli, history, "2026-11-17", tmp_path / "17.csv", baseline=tmp_path / "r2026-11-17.json")
    assert again.code == 0
    assert _shop_n1(report_again) == 2
    assert [(f["fingerprint"], f["state"]) for f in _n1(report_again)] == [(f["fingerprint"], "known") for f in _n1(report17)]
    # The table dates a question asked on another day than the finding's.
    table = cli("audit", tmp_path / "17.csv", "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "-f", "table", env={"COLUMNS": "200"})
    assert re.search(r"│ 11-16 23:30:00 +│", table.out) and re.search(r"│ 23:59:00 +│", table.out)  # tonight's own: time only


def test_still_pending_it_is_carried_again_and_judged_when_the_data_reaches_it(cli, write, tmp_path):
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    night17, report17 = _night(cli, history, "2026-11-17", write("17.csv", QUIET_17))
    assert night17.code == 0
    assert sorted((f["ts"], f["severity"]) for f in _n1(report17)) == [
        ("2026-11-16T23:30:00+08:00", "info"),
        ("2026-11-16T23:50:00+08:00", "info"),
    ]
    assert "0 late (counted on 2026-11-17), 2 still pending" in night17.err
    night18, report18 = _night(cli, history, "2026-11-18", write("18.csv", NIGHT_18))
    assert night18.code == 1
    assert sorted((f["ts"], f["severity"], f["day"]) for f in _n1(report18)) == [
        ("2026-11-16T23:30:00+08:00", "error", "2026-11-18"),
        ("2026-11-16T23:50:00+08:00", "error", "2026-11-18"),
    ]
    assert _shop_n1(report18) == 2


def test_a_missed_night_carries_nothing_until_it_is_caught_up(cli, write, tmp_path):
    """The night of the 17th did not run: the 18th's data cannot say whether the 17th
    answered, so it judges nothing of the 16th and says what waits; catching the 17th up
    judges them. The 17th's own pending question then needs the 18th's data, which the 18th
    already read: the catch-up says to run the 18th again, and that run judges it."""
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    night18, report18 = _night(cli, history, "2026-11-18", write("18.csv", LATE_18))
    assert [f["severity"] for f in _n1(report18)] == ["info"]  # its own 23:59:30 question only
    missed = "店A: 3 questions pending when the audit of 2026-11-16 ended wait for an audit of 2026-11-17 with this shop's chats"
    assert missed in night18.err and any(n["message"].startswith(missed) for n in report18["note_details"])
    caught, report17 = _night(cli, history, "2026-11-17", write("17.csv", NIGHT_17))
    assert [f["ts"] for f in _n1(report17) if f["severity"] == "error"] == ["2026-11-16T23:30:00+08:00", "2026-11-16T23:50:00+08:00"]
    stuck = "店A: 1 questions are still pending at the end of 2026-11-17, and 2026-11-18 was audited before this catch-up, so no later night will judge them: audit 2026-11-18 again with its export"
    assert stuck in caught.err, caught.err
    look, _ = _night(cli, history, "2026-11-17", tmp_path / "17.csv")  # looked at again: still true
    assert stuck in look.err, look.err
    again, report18 = _night(cli, history, "2026-11-18", tmp_path / "18.csv")
    assert "wait for an audit of" not in again.err
    assert sorted((f["ts"], f["severity"]) for f in _n1(report18)) == [("2026-11-17T23:59:00+08:00", "error"), ("2026-11-18T23:59:30+08:00", "info")]
    # The 18th has read them now: the 17th looked at again says nothing of it.
    look, _ = _night(cli, history, "2026-11-17", tmp_path / "17.csv")
    assert "no later night will judge them" not in look.err, look.err


def test_the_group_hears_what_was_held_over_in_its_language(cli, write, tmp_path):
    """The push's digest carries the note of what the night judged from the night before,
    and each such question's line gives the day it was asked."""
    from cservice_audit.render.digest import digest

    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    _, report17 = _night(cli, history, "2026-11-17", write("17.csv", NIGHT_17))
    text = digest(report17, lang="zh")
    assert "店A：2026-11-16 审核结束时尚未到期的 3 个提问已用本次数据判定：2 个超时未回复（计入 2026-11-17），0 个仍待判定" in text
    assert "PDD-N1 小美 11-16 23:50" in text, text


def test_the_open_conversations_are_the_owners_only_and_pruned_with_their_day(cli, write, tmp_path):
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    (open_file,) = history.glob("pinduoduo/shop=*/day=2026-11-16/open.parquet")
    assert stat.S_IMODE(os.stat(open_file).st_mode) == 0o600  # chat texts and buyers, unlike the day sums
    stored = pl.read_parquet(open_file)
    assert sorted(stored.get_column("buyer").unique()) == ["买家1", "买家2", "买家3"]  # whole conversations
    assert stored.filter(pl.col("open_rules").is_not_null()).height == 3
    pruned = cli("history", "-p", "pinduoduo", "--history", history, "--prune-before", "2026-11-17")
    assert pruned.code == 0, pruned.err
    assert not open_file.exists() and not open_file.parent.exists()


def test_a_damaged_open_file_stops_the_night_naming_it(cli, write, tmp_path):
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    (open_file,) = history.glob("pinduoduo/shop=*/day=2026-11-16/open.parquet")
    open_file.write_bytes(b"not parquet")
    run = cli("audit", write("17.csv", NIGHT_17), "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "-f", "json")
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and "open.parquet" in lines[0] and "Traceback" not in run.err
    pl.DataFrame({"a": [1]}).write_parquet(open_file)  # readable, but not what a run stored
    run = cli("audit", tmp_path / "17.csv", "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "-f", "json")
    assert run.code == 2 and "open.parquet" in run.err


def test_a_run_of_other_rules_leaves_the_open_turns_alone(cli, write, tmp_path):
    """`--select PDD-R3` on the night again judges no waiting rule: the turns PDD-N1 waits on
    must still be there for the next night."""
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    (open_file,) = history.glob("pinduoduo/shop=*/day=2026-11-16/open.parquet")
    before = pl.read_parquet(open_file)
    spot = cli("audit", tmp_path / "16.csv", "-p", "pinduoduo", "--history", history, "--date", "2026-11-16", "--select", "PDD-R3", "-f", "json")
    assert spot.code in (0, 1), spot.err
    assert pl.read_parquet(open_file).equals(before)
    _, report17 = _night(cli, history, "2026-11-17", write("17.csv", NIGHT_17))
    assert [f["ts"] for f in _n1(report17) if f["severity"] == "error"] == ["2026-11-16T23:30:00+08:00", "2026-11-16T23:50:00+08:00"]


TWO_SHOPS_16 = HEADER + (
    "2026-11-16 10:00:00,店A,买家1,buyer,,在吗\n"
    "2026-11-16 10:00:30,店A,买家1,agent,小美,在的亲\n"
    "2026-11-16 23:30:00,店A,买家2,buyer,,能开专票吗\n"
    "2026-11-16 10:00:00,店B,买家7,buyer,,在吗\n"
    "2026-11-16 10:00:30,店B,买家7,agent,小李,在的亲\n"
    "2026-11-16 23:30:00,店B,买家8,buyer,,能开专票吗\n"  # never answered; 店B has no chat on the 17th
)
TWO_SHOPS_17_18 = HEADER + (
    "2026-11-17 10:00:00,店A,买家4,buyer,,在吗\n"
    "2026-11-17 10:00:20,店A,买家4,agent,小小,在的亲\n"
    "2026-11-18 10:00:00,店A,买家5,buyer,,在吗\n"
    "2026-11-18 10:00:20,店A,买家5,agent,小小,在的亲\n"
    "2026-11-18 10:00:00,店B,买家9,buyer,,在吗\n"
    "2026-11-18 10:00:20,店B,买家9,agent,小李,在的亲\n"
)


def _stored_n1(history: Path) -> dict[tuple[str, str], float]:
    rows = pl.read_parquet(history / "pinduoduo" / "*" / "*" / "rows.parquet")
    shop_rows = rows.filter((pl.col("rule") == "PDD-N1") & (pl.col("scope") == "shop"))
    return {(shop, day.isoformat()): n for shop, day, n in shop_rows.select("shop", "day", "numerator").iter_rows()}


def test_a_carried_turn_of_a_shop_quiet_on_the_first_day_is_stored_on_a_day_it_judged(cli, write, tmp_path):
    """Two nights caught up at once (--since 17 --until 18) for two shops, 店B without a chat
    on the 17th: its question of the 16th is late, and the history must hold it (the next
    night's 30 days read it there), on a day of 店B the run stored."""
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", TWO_SHOPS_16))
    run = cli(
        "audit", write("17-18.csv", TWO_SHOPS_17_18), "-p", "pinduoduo", "--history", history,
        "--since", "2026-11-17", "--until", "2026-11-18", "-f", "json",
    )
    assert run.code == 1, run.err
    late = sorted((f["shop"], f["day"]) for f in _n1(run.json()) if f["severity"] == "error")
    assert late == [("店A", "2026-11-17"), ("店B", "2026-11-18")]
    stored = _stored_n1(history)
    assert stored[("店A", "2026-11-17")] == 1 and stored[("店B", "2026-11-18")] == 1
    assert "店B: 1 questions not yet due when the audit of 2026-11-16 ended were judged with this data: 1 late (counted on 2026-11-18)" in run.err


AGAIN_17 = HEADER + (
    "2026-11-17 00:10:00,店A,买家2,buyer,,在吗？\n"  # the 23:30 buyer writes again; nobody answers
    "2026-11-17 23:59:00,店A,买家4,buyer,,好\n"
)


def test_a_buyer_writing_again_after_midnight_has_each_question_judged(cli, write, tmp_path):
    """The 16th's 23:30 question is late on the 17th; the 00:10 one, a turn of the 17th's own
    export, is pending there and judged on the 18th (stored as the 17th saw it, it is still
    a turn's first message when the 18th reads it)."""
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    _night(cli, history, "2026-11-17", write("17.csv", AGAIN_17))
    night18, report18 = _night(cli, history, "2026-11-18", write("18.csv", LATE_18))
    judged = sorted((f["ts"], f["severity"]) for f in _n1(report18) if f["ts"] < "2026-11-18")
    assert ("2026-11-17T00:10:00+08:00", "error") in judged, (judged, night18.err)
    assert "2 questions not yet due when the audit of 2026-11-17 ended were judged with this data: 2 late" in night18.err, night18.err


def test_a_day_audited_again_with_the_next_days_export_says_what_counts_twice(cli, write, tmp_path):
    """After the nights of the 16th and 17th, the 16th audited with both exports judges its
    late-evening questions itself, which the 17th already counted: it says to run the 17th
    again, and that rerun leaves them counted once."""
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    _night(cli, history, "2026-11-17", write("17.csv", NIGHT_17))
    both = cli("audit", tmp_path / "16.csv", tmp_path / "17.csv", "-p", "pinduoduo", "--history", history, "--date", "2026-11-16", "-f", "json")
    assert both.code in (0, 1), both.err
    assert "店A: 2 questions of 2026-11-16 this run counts as late were counted by the audit of 2026-11-17 already: audit 2026-11-17 again with its export" in both.err, both.err
    assert sum(_stored_n1(history).values()) == 4  # both days hold them until the 17th runs again
    _night(cli, history, "2026-11-17", tmp_path / "17.csv")
    assert _stored_n1(history) == {("店A", "2026-11-16"): 2, ("店A", "2026-11-17"): 0}


def test_an_open_file_of_another_shop_or_a_link_stops_the_run(cli, write, tmp_path):
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    (open_file,) = history.glob("pinduoduo/shop=*/day=2026-11-16/open.parquet")
    pl.read_parquet(open_file).with_columns(pl.lit("店B").alias("shop")).write_parquet(open_file)
    run = cli("audit", write("17.csv", NIGHT_17), "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "-f", "json")
    assert run.code == 2 and "open.parquet" in run.err and len(run.err.strip().splitlines()) == 1, run.err
    open_file.unlink()
    elsewhere = tmp_path / "elsewhere.parquet"
    elsewhere.write_bytes(b"keep me")
    (open_file.parent.parent / "day=2026-11-17").mkdir()
    link = open_file.parent.parent / "day=2026-11-17" / "open.parquet"
    link.symlink_to(elsewhere)
    run = cli("audit", tmp_path / "17.csv", "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "-f", "json")
    assert run.code == 2 and "open.parquet" in run.err and elsewhere.read_bytes() == b"keep me", run.err


def test_a_day_without_data_inside_the_week_is_said_until_it_is_caught_up(cli, write, tmp_path):
    """Kuaishou's reply rate is weekly. The 17th never ran: the 18th's weekly rate counted the
    16th and the 18th only, and the one sign was `（按 2/3 天数据）` on a tier line. The run says
    which day has no data, in the JSON, on stderr and in the group's digest, until that night
    is caught up; a shop's days before its first stored one (a new install) are not missing.
    The night right after the gap pushes it on its own (`night_missing`, an alarm: the night
    that did not run pushed nothing); later nights remind (`days_missing`) without pushing."""
    from test_notify import TOKEN, Bot

    history = tmp_path / "h"
    kinds = ("days_missing", "night_missing")

    def night(day: str, export: Path, *more: str):
        run = cli("audit", export, "-p", "kuaishou", "--history", history, "--date", day, "-f", "json", "-o", f"r{day}.json", *more)
        assert run.code in (0, 1), run.err
        return run, [n for n in json.loads((tmp_path / f"r{day}.json").read_text("utf-8"))["note_details"] if n["kind"] in kinds]

    first, notes16 = night("2026-11-16", write("16.csv", NIGHT_16))
    assert notes16 == [] and "no chat data" not in first.err
    late, notes18 = night("2026-11-18", write("18.csv", NIGHT_18))
    said = "店A: no chat data for 2026-11-17 (did that night's audit run, or stop with an error? was the export empty?)"
    assert [(n["kind"], n["message"][: len(said)]) for n in notes18] == [("night_missing", said)] and said in late.err, late.err
    digest = cli("audit", tmp_path / "18.csv", "-p", "kuaishou", "--history", history, "--date", "2026-11-18", "-f", "digest", "--lang", "zh")
    assert "店A：2026-11-17 没有任何聊天数据" in digest.out.split("**未达标规则")[0], digest.out
    night19 = write("19.csv", NIGHT_18.replace("2026-11-18", "2026-11-19"))
    _, notes19 = night("2026-11-19", night19)
    assert [n["kind"] for n in notes19] == ["days_missing"]
    # Quiet nights (every finding known: compared with the night's own findings, without its
    # notes): the first after the gap pushes, the next does not; a rerun of the first, compared
    # with its own report, which held the alarm (known, schema 2.5), does not push it again.
    with Bot() as bot:
        url = f"{bot.url}/cgi-bin/webhook/send?key={TOKEN}"

        def quiet_night(day: str, export: Path, baseline: Path | str) -> None:
            run, _ = night(day, export, "--baseline", baseline)
            assert run.code == 0, run.err
            assert cli("notify", f"r{day}.json", "--wecom", url, "--only-news").code == 0

        def findings_only(day: str) -> Path:
            held = json.loads((tmp_path / f"r{day}.json").read_text("utf-8"))
            return write(f"b{day}.json", json.dumps({**held, "notes": [], "note_details": []}))

        quiet_night("2026-11-18", tmp_path / "18.csv", findings_only("2026-11-18"))
        assert bot.count_within(1, seconds=5) == 1  # night_missing: an alarm
        quiet_night("2026-11-19", night19, findings_only("2026-11-19"))
        assert bot.count_within(1, seconds=0.3) == 1  # days_missing only reminds
        quiet_night("2026-11-18", tmp_path / "18.csv", "r2026-11-18.json")
        assert bot.count_within(1, seconds=0.3) == 1  # the rerun: its alarm was pushed already
    night("2026-11-17", write("17.csv", NIGHT_17))
    again, notes18 = night("2026-11-18", tmp_path / "18.csv")
    assert notes18 == [] and "no chat data" not in again.err, again.err
    alone = cli("audit", tmp_path / "18.csv", "-p", "kuaishou", "--no-history", "-f", "json")
    assert [n for n in alone.json()["note_details"] if n["kind"] in kinds] == []
    # Where every rate is daily (pinduoduo) the missed day went unjudged altogether: said too.
    for day in ("2026-11-16", "2026-11-18"):
        run = cli("audit", tmp_path / f"{day[-2:]}.csv", "-p", "pinduoduo", "--history", tmp_path / "h2", "--date", day, "-f", "json")
        assert run.code in (0, 1), run.err
    assert [n["kind"] for n in run.json()["note_details"] if n["kind"] in kinds] == ["night_missing"] and said in run.err, run.err


def test_two_days_without_data_are_said_as_two_nights(cli, write, tmp_path):
    """A two-day gap read `2026-11-17，2026-11-18 没有任何聊天数据（那晚的审核没有运行…）：那天
    未经审核…补跑那一晚`: one night's words for two. Several days now read 那几晚/那几天 (those
    nights/days); one day keeps 那晚 (the test above)."""
    history = tmp_path / "h"
    nights = (("2026-11-16", NIGHT_16), ("2026-11-19", NIGHT_18.replace("2026-11-18", "2026-11-19")))
    for day, text in nights:
        run = cli("audit", write(f"{day}.csv", text), "-p", "kuaishou", "--history", history, "--date", day, "-f", "json", "--lang", "zh")
        assert run.code in (0, 1), run.err
    notes = [n for n in run.json()["note_details"] if n["kind"] == "night_missing"]
    assert len(notes) == 1, run.json()["note_details"]
    assert "2026-11-17, 2026-11-18 (did those nights' audit run" in notes[0]["message"] and "run those nights again" in notes[0]["message"], notes
    zh = notes[0]["message_zh"]
    assert "2026-11-17，2026-11-18 没有任何聊天数据（那几晚的审核" in zh and "：那几天未经审核" in zh and "补跑那几晚即可计入" in zh and "那晚" not in zh, zh


def test_a_look_with_no_store_reads_the_history_and_changes_nothing(cli, write, tmp_path):
    """The morning look at a night with another export (a spot-check of part of the day)
    replaced the night's stored day and its pending turns. With --no-store the history is
    read (the pending turns are still judged in the report) and left byte for byte; the header
    says so."""
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    _night(cli, history, "2026-11-17", write("17.csv", NIGHT_17))
    before = {p: p.read_bytes() for p in sorted(history.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}
    part = write("part.csv", "\n".join(NIGHT_17.splitlines()[:3]) + "\n")
    look = cli("audit", part, "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "--no-store", "-f", "table", "--lang", "zh", env={"COLUMNS": "200"})
    assert look.code in (0, 1), look.err
    assert "只读（--no-store），本次未写入" in look.out and "已审核过" not in look.err, (look.out, look.err)
    after = {p: p.read_bytes() for p in sorted(history.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}
    assert after == before
    judged = cli("audit", part, "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "--no-store", "-f", "json")
    # last night's pending questions were read (this part of the day does not reach their deadline)
    assert sorted(f["ts"] for f in _n1(judged.json()) if f["ts"] < "2026-11-17") == ["2026-11-16T23:30:00+08:00", "2026-11-16T23:50:00+08:00"]
    # the JSON says the look stored nothing (days_written 0 alone did not tell it from a night)
    assert judged.json()["history"] == {"folder": str(history), "stored": False, "days_written": 0}, judged.json()["history"]
    stored = cli("audit", part, "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "-f", "json")  # without it: replaced
    assert "audited before" in stored.err and "judged from 2 chat rows this run, from 4 when stored" in stored.err, stored.err
    assert stored.json()["history"]["stored"] is True and stored.json()["history"]["days_written"] >= 1, stored.json()["history"]


def test_a_look_with_no_store_creates_nothing_and_needs_no_write_access(cli, write, tmp_path):
    """--no-store took the history's lock as a night does: it created the history and
    platform folders and `.lock` where none were (a typo'd --history left a tree behind), and a
    supervisor's look at the cron account's read-only history stopped with `Permission
    denied`. A look now waits on the lock shared, and only when a night has made it."""
    missing = tmp_path / "none"
    look = cli("audit", write("17.csv", NIGHT_17), "-p", "pinduoduo", "--history", missing, "--date", "2026-11-17", "--no-store", "-f", "json")
    assert look.code in (0, 1), look.err
    assert not missing.exists()
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", NIGHT_16))
    (history / "pinduoduo" / ".lock").unlink()  # a history copied, or made by an older version
    folders = [history, *(p for p in history.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        look = cli("audit", tmp_path / "17.csv", "-p", "pinduoduo", "--history", history, "--date", "2026-11-17", "--no-store", "-f", "json")
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert look.code in (0, 1), look.err
    assert not (history / "pinduoduo" / ".lock").exists()
    assert sorted(f["ts"] for f in _n1(look.json()) if f["ts"] < "2026-11-17") == ["2026-11-16T23:30:00+08:00", "2026-11-16T23:50:00+08:00"]


def test_a_night_audited_with_no_row_to_store_is_not_a_day_without_data(cli, write, tmp_path):
    """A day whose only chat was at 02:00 (outside every window) was audited and stored as a
    file with no rows; the next night said `no chat data for 2026-11-17 (did that night's
    audit run?)` of it: the note read the stored rows, not the stored days."""
    history = tmp_path / "h"
    quiet = HEADER + "2026-11-17 02:00:00,店A,买家9,buyer,,在吗\n"
    for day, text in (("2026-11-16", NIGHT_16), ("2026-11-17", quiet), ("2026-11-18", NIGHT_18)):
        run = cli("audit", write(f"{day}.csv", text), "-p", "kuaishou", "--history", history, "--date", day, "-f", "json")
        assert run.code in (0, 1), run.err
    assert "no chat data" not in run.err, run.err
    assert [n for n in run.json()["note_details"] if n["kind"] == "days_missing"] == []
    listing = cli("history", "-p", "kuaishou", "--history", history, "-f", "csv")
    assert "店A,2026-11-17,1,0," in listing.out, listing.out  # stored, with no row


def test_an_agent_whose_only_turn_is_a_carried_late_one_fails_the_rule(cli, write, tmp_path):
    # The question's turn was counted on the 16th, for nobody (unanswered then); 小林 answers it
    # 24 h and a second later and has no turn of his own in the 30 days. His −10 is an
    # occurrence: the rule fails for him, it is not "too few" (the summary said 0 failing and
    # the push left him out of the agents to watch).
    history = tmp_path / "h"
    _night(cli, history, "2026-11-16", write("16.csv", HEADER + "2026-11-16 07:00:00,店A,买家1,buyer,,有人吗\n"))
    _, report = _night(cli, history, "2026-11-17", write("17.csv", HEADER + "2026-11-17 07:00:01,店A,买家1,agent,小林,在的\n"))
    (late,) = [f for f in _n1(report) if f["severity"] == "error"]
    assert late["agent"] == "小林"
    (row,) = [m for m in report["metrics"] if m["rule"] == "PDD-N1" and m["agent"] == "小林"]
    assert (row["numerator"], row["status"]) == (1, "fail")
