"""Reports people open where they work (docs/outputs.md): CSV for Excel, the bot digest, and
no machine path in a human format unless asked. End to end through the installed command."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo
from pathlib import Path

import polars as pl
import pytest

from transcripts import FAILING

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
LARGEST = SAMPLES / "kuaishou-2026-11-16-week.csv"
SAMPLE_PDD = SAMPLES / "pinduoduo-2026-11-22.csv"
SAMPLE_TAOBAO = SAMPLES / "taobao-2026-11.csv.gz"
# A formula-looking agent name with a late answer (findings of its own), and an off-platform
# contact phrase (a finding with a time).
FORMULA = "=HYPERLINK(\"http://x\",\"点我\")"
HOSTILE = FAILING + (
    f"2026-11-22 11:00:00,b3,买家,,在吗\n"
    f"2026-11-22 11:20:00,b3,客服,\"{FORMULA.replace(chr(34), chr(34) * 2)}\",在\n"
    "2026-11-22 12:00:00,b4,买家,,在吗\n"
    "2026-11-22 12:00:30,b4,客服,小美,加我微信聊\n"
)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --------------------------------------------------------------------------- CSV


@pytest.fixture(scope="module")
def csv_runs(tmp_path_factory, cli_factory):
    tmp = tmp_path_factory.mktemp("csv")
    (tmp / "chats.csv").write_text(HOSTILE, "utf-8")
    cli = cli_factory(tmp)
    base = ("audit", "chats.csv", "-p", "pdd", "--exit-zero")
    runs = cli.many(
        (*base, "-f", "json"),
        (*base, "-f", "csv", "-o", "findings.csv"),
        (*base, "-f", "csv"),
        (*base, "-f", "csv", "--no-csv-bom", "-o", "plain.csv"),
        (*base, "-f", "csv", "--csv-bom"),
        (*base, "-f", "csv", "--table", "metrics", "-o", "metrics.csv"),
    )
    for run in runs:
        assert run.code == 0, run.err
    return tmp, runs


def test_csv_file_has_a_bom_and_reads_back_with_utf8_sig(csv_runs):
    tmp, (json_run, *_) = csv_runs
    raw = (tmp / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(tmp / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    report = json_run.json()
    assert [r["fingerprint"] for r in rows] == [f["fingerprint"] for f in report["findings"]]
    assert "code" in rows[0]  # the BOM is not glued to the first header
    assert not (tmp / "plain.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_csv_stdout_has_no_bom_unless_asked(csv_runs):
    _, (_, _, stdout, _, asked, _) = csv_runs
    assert not stdout.out.startswith("\ufeff") and stdout.out.startswith("code,")
    assert asked.out.startswith("\ufeffcode,")


def test_csv_times_are_local_date_and_time_columns(csv_runs):
    _, (json_run, _, stdout, *_) = csv_runs
    rows = _rows(stdout.out)
    assert "ts" not in rows[0] and {"ts_date", "ts_time"} <= set(rows[0])
    by_print = {f["fingerprint"]: f for f in json_run.json()["findings"]}
    timed = [r for r in rows if r["ts_time"]]
    assert timed, "no finding with a time"
    for row in timed:
        stamp = by_print[row["fingerprint"]]["ts"]  # the JSON keeps the offset
        assert stamp.endswith("+08:00")
        assert (row["ts_date"], row["ts_time"]) == (stamp[:10], stamp[11:19])
        date.fromisoformat(row["ts_date"])
        assert re.fullmatch(r"\d\d:\d\d:\d\d", row["ts_time"])


def test_csv_integers_are_integers_and_formulas_stay_text(csv_runs):
    _, (_, _, stdout, *_) = csv_runs
    rows = _rows(stdout.out)
    points = [r["points"] for r in rows if r["points"]]
    assert points and all(re.fullmatch(r"-?\d+", p) for p in points), points
    agents = {r["agent"] for r in rows}
    assert "'" + FORMULA in agents, agents  # guarded: Excel shows it, never runs it
    assert FORMULA not in agents


def test_csv_metrics_table_is_the_scorecard(csv_runs):
    tmp, (json_run, *_) = csv_runs
    with open(tmp / "metrics.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    metrics = json_run.json()["metrics"]
    assert len(rows) == len(metrics)
    guarded = {FORMULA: "'" + FORMULA, None: ""}
    assert [(r["rule"], r["agent"]) for r in rows] == [(m["rule"], guarded.get(m["agent"], m["agent"])) for m in metrics]
    assert all(re.fullmatch(r"\d+", r["denominator"]) for r in rows)
    assert all(re.fullmatch(r"-?\d+", r["numerator"]) for r in rows if r["rule"] == "PDD-R3")
    assert {r["status"] for r in rows} <= {"pass", "fail", "at_risk", "insufficient"}


def test_json_waits_are_seconds_to_the_millisecond_and_judged_unrounded(cli, write, tmp_path):
    """Waits from millisecond timestamps printed as 30.400000000000002 (polars divides by 1000
    as a product by 0.001). The JSON and JSON lines print them to the millisecond; the check
    still judges the value itself: 30.4 s is late against JD-R30's 30 s, 29.9 s is on time."""
    write(
        "jd.csv",
        "ts,shop,buyer,role,agent,text\n"
        "2026-11-22 10:00:00.000,店,b1,买家,,在吗\n2026-11-22 10:00:30.400,店,b1,客服,小A,在的\n"
        "2026-11-22 11:00:00.000,店,b2,买家,,在吗\n2026-11-22 11:00:29.900,店,b2,客服,小A,在的\n",
    )
    args = ("audit", "jd.csv", "-p", "jd", "--no-history", "--select", "JD-R30", "--exit-zero")
    report, lines, _ = cli.many((*args, "-f", "json"), (*args, "-f", "jsonl"), (*args, "-f", "json", "-o", tmp_path / "r.json"))
    assert report.code == 0 and lines.code == 0, report.err + lines.err
    for text in (report.out, lines.out, (tmp_path / "r.json").read_text("utf-8")):
        assert "0000000" not in text, re.findall(r'"wait\w*": [0-9.]+', text)
    data = report.json()
    assert [i["wait"] for i in data["items"]] == [30.4, 30.4]  # the agent's and the shop's late item
    for m in data["metrics"]:
        assert (m["numerator"], m["denominator"], m["status"]) == (1, 2, "fail"), m
        assert (m["wait_mean"], m["wait_p50"], m["wait_p90"]) == (30.15, 30.15, 30.35), m
    items = [json.loads(line) for line in lines.out.splitlines() if '"type": "item"' in line]
    assert [i["wait"] for i in items] == [30.4, 30.4]


def test_csv_only_options_are_refused_elsewhere(cli, write):
    write("chats.csv", FAILING)
    for args in (("--table", "metrics"), ("--csv-bom",)):
        run = cli("audit", "chats.csv", "-p", "pdd", "-f", "json", *args)
        assert run.code == 2 and len(run.err_lines()) == 1 and "--format csv" in run.err


# --------------------------------------------------------------------------- digest

LIMIT = 4096


def _check_digest(text: str) -> None:
    size = len(text.encode("utf-8"))
    assert 0 < size <= LIMIT, size
    assert not any(line.lstrip().startswith("|") for line in text.splitlines()), "a table row"


def test_digest_of_the_largest_sample(cli):
    run = cli("audit", LARGEST, "-p", "kuaishou", "-f", "digest", "--exit-zero", "--no-history")
    assert run.code == 0, run.err
    _check_digest(run.out)
    assert "2026-11-22" in run.out and "快手示例小店" in run.out
    assert "KS-R3" in run.out  # a failed rule
    assert "**莉莉**" in run.out  # a worst agent
    # A week's finding has no one day: no first day before its message (which gives the span).
    week = [line for line in run.out.splitlines() if line.startswith("- KS-R3 ")]
    assert week and all(re.match(r"- KS-R3 [^:]+: ", line) and "2026-11-16:" not in line for line in week), week


@pytest.fixture(scope="module")
def big_day(tmp_path_factory) -> Path:
    """One shop, one day, 200 agents: two generated halves of 100 agents (the generator takes
    at most 120), their ids made distinct."""
    from cservice_audit.generate import Profile, generate_events, write_export

    halves = []
    for half in range(2):
        names = tuple(f"客服{half * 100 + i:03d}号" for i in range(100))
        frame = generate_events(Profile(rows=12000, seed=11 + half, start=date(2026, 11, 22), agents=names))
        if half:
            frame = frame.with_columns((pl.lit("h2-") + pl.col(c)).alias(c) for c in ("buyer", "conversation", "message_id"))
        halves.append(frame)
    day = pl.concat(halves).sort("ts")
    path = tmp_path_factory.mktemp("big") / "day.csv"
    write_export(day, path)
    return path


def test_digest_of_a_200_agent_day_is_trimmed_whole(cli, big_day):
    run = cli("audit", big_day, "-p", "pdd", "-f", "json", "-o", "report.json", "--exit-zero", "--no-history")
    assert run.code == 0, run.err
    report = json.loads((Path(cli.cwd) / "report.json").read_text("utf-8"))
    assert len({m["agent"] for m in report["metrics"] if m["scope"] == "agent"}) >= 200
    run = cli("audit", big_day, "-p", "pdd", "-f", "digest", "--exit-zero", "--no-history",
              "--report-url", "https://reports.example/pdd/2026-11-22.html")
    assert run.code == 0, run.err
    _check_digest(run.out)
    # Trimmed by list items, with the rest counted: shown + "more" = all findings.
    # A first run: every finding is new (the report's `state`), so all are candidates.
    shown = re.search(r"\*\*(?:New f|F)indings \((\d+)(?: of \d+)?\):\*\*\n((?:- .*\n)*)(?:…and (\d+) more)?", run.out)
    assert shown, run.out
    total, listed, more = int(shown.group(1)), shown.group(2).count("\n"), int(shown.group(3) or 0)
    # Pending turns (info, no points) are listed apart, under their own heading.
    waiting = [f for f in report["findings"] if f["status"] == "pending"]
    assert total == len(report["findings"]) - len(waiting) and listed + more == total and more > 0
    assert run.out.rstrip().endswith("https://reports.example/pdd/2026-11-22.html")


def test_digest_lists_pending_questions_apart_from_the_new_findings(cli, tmp_path):
    """A question asked at 23:55 and unanswered when the export ends is pending (spec §5: not a
    violation until 24 hours have passed): the group's message counted it among 新问题 on its
    night, and again, judged late, the next night. It is listed apart now, latest first, under a
    heading that says a reply in time keeps it off the count; the new findings are the rest."""
    rows = ["ts,shop,buyer,role,agent,text"]
    rows += ["2026-11-22 10:00:00,店,b1,buyer,,在吗", "2026-11-22 10:09:00,店,b1,agent,小周,在的"]  # late: PDD-R3/R5
    rows += ["2026-11-22 14:00:00,店,b2,buyer,,你好", "2026-11-22 14:00:30,店,b2,agent,小周,您好"]
    rows += ["2026-11-22 23:30:00,店,b3,buyer,,还在吗", "2026-11-22 23:55:00,店,b4,buyer,,发货了吗"]
    export = tmp_path / "day.csv"
    export.write_text("\n".join(rows) + "\n", "utf-8")
    run = cli("audit", export, "-p", "pinduoduo", "--no-history", "--exit-zero", "--shop", "店", "-f", "json", "-o", "r.json")
    assert run.code == 0, run.err
    report = json.loads((Path(cli.cwd) / "r.json").read_text("utf-8"))
    waiting = [f for f in report["findings"] if f["status"] == "pending"]
    assert len(waiting) == 2 and all(not f["points"] and f["severity"] == "info" for f in waiting), report["findings"]
    out = cli("audit", export, "-p", "pinduoduo", "--no-history", "--exit-zero", "--shop", "店", "--lang", "zh", "-f", "digest").out
    news = re.search(r"\*\*新问题（(\d+) 个中的 (\d+) 个）：\*\*\n((?:- .*\n)*)", out)
    assert news and int(news.group(1)) == int(news.group(2)) == len(report["findings"]) - 2, out
    assert "待判定" not in news.group(3), out
    pending = re.search(r"\*\*待判定的提问（2）：在判定时间前回复即不计入\*\*\n((?:- .*\n)*)", out)
    assert pending, out
    assert [line.split()[3] for line in pending.group(1).splitlines()] == ["23:55", "23:30"], out
    # A rule a shop set to `info` (no points either) is a finding, not a question to answer:
    # severity alone listed PDD-S1's repeated scripts under 待判定 (schema 2.4 marks `pending`).
    (tmp_path / "info.yaml").write_text("extends: pinduoduo\nrules:\n  - code: PDD-S1\n    severity: info\n", "utf-8")
    sample = Path(__file__).resolve().parents[1] / "samples" / "pinduoduo-2026-11-22.csv"
    own = cli("audit", sample, "--ruleset", tmp_path / "info.yaml", "--no-history", "--exit-zero", "--lang", "zh", "-f", "digest").out
    listed = re.search(r"\*\*待判定的提问（\d+）：[^*]*\*\*\n((?:- .*\n)*)", own)
    assert listed and "PDD-S1" not in listed.group(1) and all(line.startswith("- PDD-N1 ") for line in listed.group(1).splitlines()), own


def test_digest_never_cuts_a_character():
    from cservice_audit.render.digest import digest

    agent = "客" * 300 + "*[x](http://evil)"
    metric = {"rule": "PDD-R3", "name": "three-minute-human-reply-rate", "scope": "agent", "shop": "店" * 200,
              "agent": agent, "period_start": "2026-11-22", "period_end": "2026-11-22", "status": "fail"}
    finding = {"code": "PDD-R3", "severity": "error", "shop": "店", "agent": agent, "ts": None, "day": "2026-11-22",
               "period_start": "2026-11-22", "message": "回复慢" * 100, "tier": "情节严重", "penalty": "扣分"}
    report = {"ruleset": {"platform": "pinduoduo", "rules": ["PDD-R3"]}, "as_of": "2026-11-22",
              "metrics": [metric] * 50, "findings": [finding] * 80, "summary": {"points": []}}
    for limit in (4096, 1000, 300):
        text = digest(report, report_url="https://example/" + "长" * 2000, limit=limit)
        assert len(text.encode("utf-8")) <= limit
        assert "[x](http" not in text  # the name cannot smuggle a link in
    text = digest(report, limit=1000)
    assert "…and 79 more" in text or "…and 80 more" in text


def test_digest_names_sub_accounts_without_backslashes(cli, tmp_path):
    """Every JD sub-account (jd_客服09) and derived conversation (店/buyer_02599#1) read
    `jd\\_客服09` and `buyer\\_02599\\#1` in the group's message: an underscore between
    letters and a `#` inside a line mark nothing up, and a bot that does not read escapes
    shows the backslashes. Markup that could work (emphasis, a link) stays escaped."""
    rows = ["ts,shop,buyer,role,agent,text"]
    for i in range(3):
        rows += [f"2026-11-22 10:0{i}:00,店,buyer_0259{i},buyer,,在吗", f"2026-11-22 10:0{i}:50,店,buyer_0259{i},agent,jd_客服09,在的"]
    rows += ["2026-11-22 11:00:00,店,b_x,buyer,,在吗", "2026-11-22 11:00:50,店,b_x,agent,*小*_美_[x](http://e),加我微信"]
    export = tmp_path / "jd.csv"
    export.write_text("\n".join(rows) + "\n", "utf-8")
    out = cli("audit", export, "-p", "jd", "--no-history", "--exit-zero", "--lang", "zh", "-f", "digest").out
    assert "**jd_客服09**" in out and "会话 店/b_x#20261122-1100" in out and "\\_" not in out.replace("\\_美\\_", ""), out
    assert "\\*小\\*\\_美\\_\\[x\\](http://e)" in out and "[x](http" not in out, out


def test_digest_lists_agents_incidents_before_unassigned_turns():
    """A day's unanswered turns of nobody's (PDD-N1 （未分配）, error, in a conversation) filled
    the new-findings lines before any agent's insult or WeChat id: an agent's come first."""
    from cservice_audit.render.digest import finding_lines

    def finding(code, agent, minute):
        return {"code": code, "severity": "error", "shop": "店", "agent": agent, "ts": f"2026-11-22T10:{minute:02d}:00+08:00",
                "day": "2026-11-22", "period": "day", "period_start": "2026-11-22", "conversation": f"c{minute}",
                "message": code, "state": "new"}  # fmt: skip

    report = {"as_of": "2026-11-22", "metrics": [], "summary": {"points": []},
              "findings": [finding("PDD-N1", "(unassigned)", m) for m in range(12)] + [finding("PDD-P2", "小周", 30)]}  # fmt: skip
    lines, _, _ = finding_lines(report, "en")
    assert lines[0].startswith("PDD-P2 小周 10:30"), lines[:3]


def test_digest_lets_the_rules_take_turns_costliest_first():
    """Within a severity the rules take turns, one incident each, an insult (PDD-P1, −30
    points) before an unanswered turn (PDD-N1, −10), equal cost in code order: by code a
    night's PDD-N1 lines took all ten places and no insult was in the group's message, and by
    points alone the WeChat ids (PDD-P2, no points) fell behind every −10 line."""
    from cservice_audit.render.digest import finding_lines

    def finding(code, agent, minute, points):
        return {"code": code, "severity": "error", "shop": "店", "agent": agent, "ts": f"2026-11-22T10:{minute:02d}:00+08:00",
                "day": "2026-11-22", "period": "day", "period_start": "2026-11-22", "conversation": f"c{minute}",
                "message": code, "state": "new", "points": points}  # fmt: skip

    report = {"as_of": "2026-11-22", "metrics": [], "summary": {"points": []},
              "findings": [finding("PDD-N1", "小美", m, -10) for m in range(12)]
              + [finding("PDD-P2", "阿强", 40, 0), finding("PDD-P1", "小周", 30, -30), finding("PDD-N0", "小周", 50, -10)]}  # fmt: skip
    lines, _, _ = finding_lines(report, "en")
    assert [line.split()[0] for line in lines[:5]] == ["PDD-P1", "PDD-N0", "PDD-N1", "PDD-P2", "PDD-N1"], lines[:5]
    assert [line.split()[2] for line in lines if line.startswith("PDD-N1")] == [f"10:{m:02d}" for m in range(12)]  # in time order


def test_digest_counts_the_agents_the_summary_screen_counts(cli):
    """The sample's PDD-R3 fails for three agents, the unassigned turns and the shop: the
    digest says "3 agent(s) fail" as the summary screen's rows do, names the unassigned turns
    apart, and lists no "(unassigned)" among the worst agents (it once said 4, in a shop of 4
    agents where only 3 failed)."""
    report = cli("audit", SAMPLE_PDD, "-p", "pdd", "-f", "json", "--exit-zero", "--no-history").json()
    failing = {m["agent"] for m in report["metrics"] if m["rule"] == "PDD-R3" and m["scope"] == "agent" and m["status"] == "fail"}
    assert "(unassigned)" in failing and len(failing) == 4, failing  # what the digest must not count as 4 agents
    run = cli("audit", SAMPLE_PDD, "-p", "pdd", "-f", "digest", "--exit-zero", "--no-history")
    line = next(x for x in run.out.splitlines() if x.startswith("- PDD-R3 "))
    assert line.endswith(": shop fails, 3 agent(s) fail, unassigned turns fail"), line
    worst = run.out.split("**Worst agents:**")[1].split("\n\n")[0]
    assert "unassigned" not in worst and worst.count("- **") == 4, worst


def test_digest_of_one_taobao_shop_names_sub_accounts_without_the_shop(cli, write):
    """Taobao names agents `店铺名:客服名`. A digest of one shop names the shop once, on its
    `店铺：` line, so its lists leave the prefix off, as the summary screen does; with two
    shops every line names the agent beside its shop, `店铺 / 客服`."""
    one = ("ts,shop,buyer,role,agent,text\n"
           "2026-11-22 09:00:00,小林数码专营店,b1,买家,,在吗\n2026-11-22 09:20:00,小林数码专营店,b1,客服,小林数码专营店:客服07,在的\n"
           "2026-11-22 10:00:00,小林数码专营店,b2,买家,,在吗\n2026-11-22 10:00:10,小林数码专营店,b2,客服,小林数码专营店:客服07,全网最低价哦\n")  # fmt: skip
    two = one + ("2026-11-22 09:00:00,晨光家居旗舰店,b3,买家,,在吗\n"
                 "2026-11-22 09:20:00,晨光家居旗舰店,b3,客服,晨光家居旗舰店:客服07,在的\n")  # fmt: skip
    write("one.csv", one)
    write("two.csv", two)
    single, double = cli.many(*(("audit", f, "-p", "taobao", "-f", "digest", "--lang", "zh", "--exit-zero", "--no-history") for f in ("one.csv", "two.csv")))
    assert single.code == double.code == 0, single.err + double.err
    assert "店铺：小林数码专营店" in single.out
    assert "小林数码专营店:" not in single.out, single.out
    assert "- **客服07**：未达标" in single.out and "- TB-P1 客服07 10:00 会话 小林数码专营店/b2：" in single.out, single.out
    assert "- **小林数码专营店 / 客服07**：未达标" in double.out and "- **晨光家居旗舰店 / 客服07**：未达标" in double.out, double.out
    assert "- TB-P1 小林数码专营店 / 客服07 10:00 会话 小林数码专营店/b2：" in double.out, double.out


def test_digest_of_two_shops_says_whose_客服07_a_finding_is(cli, write):
    """Pinduoduo names agents without their shop: two shops' 客服07 are two people. In a
    two-shop digest every finding line and the worst-agents list name the shop (a line that
    said only `PDD-P1 客服07` sent the supervisor to the wrong shop's chats), and a rule the
    shop total fails says which shop."""
    rows = "ts,shop,buyer,role,agent,text\n" + "".join(
        f"2026-11-22 10:00:00,{shop},b{i},买家,,在吗\n2026-11-22 10:00:10,{shop},b{i},客服,客服07,{text}\n"
        for i, (shop, text) in enumerate((("甲店", "你自己看不懂吗"), ("乙店", "在的亲")))
    )
    write("two.csv", rows)
    run = cli("audit", "two.csv", "-p", "pdd", "-f", "digest", "--lang", "zh", "--exit-zero", "--no-history")
    assert run.code == 0, run.err
    # which shop fails; Chinese punctuation in a Chinese digest (it said `（甲店）, 1 名` and `乙店, 甲店`)
    assert "- PDD-P1 不良服务态度：全店未达标（甲店），1 名客服未达标" in run.out and "店铺：乙店、甲店\n" in run.out, run.out
    english = cli("audit", "two.csv", "-p", "pdd", "-f", "digest", "--lang", "en", "--exit-zero", "--no-history")
    assert "- PDD-P1 不良服务态度: shop total fails (甲店), 1 agent(s) fail" in english.out and "Shop: 乙店, 甲店\n" in english.out, english.out
    found = run.out.split("**新问题")[1].splitlines()[1:]
    assert found[0].startswith("- PDD-P1 甲店 / 客服07 10:00 会话 甲店/b0："), run.out
    assert "乙店 / 客服07 10:00" not in run.out and "- **甲店 / 客服07**：未达标" in run.out, run.out


def test_digest_names_the_shop_once_and_its_total_as_the_table_does(cli):
    """The douyin sample has a damaged line whose shop could not be read (`-` in the JSON):
    it is not a second shop on the digest's `店铺：` line. With one shop, a shop-scope line
    reads `（全店）`, as the findings table's agent column does, not the shop's name again."""
    douyin = SAMPLES / "douyin-2026-11-22.jsonl"
    dy, ks = cli.many(
        ("audit", douyin, "-p", "douyin", "-f", "digest", "--lang", "zh", "--exit-zero", "--no-history"),
        ("audit", LARGEST, "-p", "kuaishou", "-f", "digest", "--lang", "zh", "--exit-zero", "--no-history"),
    )
    assert dy.out.splitlines()[1] == "店铺：抖店示例店", dy.out
    assert "- KS-G1 （全店）：人工客服好评率" in ks.out and "- KS-G1 快手示例小店：" not in ks.out, ks.out


def test_digest_lists_new_findings_when_the_report_says_which():
    from cservice_audit.render.digest import digest

    base = {"code": "PDD-R3", "severity": "error", "shop": "店", "ts": "2026-11-22T09:03:00+08:00", "day": "2026-11-22",
            "period_start": "2026-11-22", "message": "late", "tier": None, "penalty": None}
    findings = [{**base, "agent": "新人", "state": "new"}, {**base, "agent": "老人", "state": "known"}]
    report = {"ruleset": {"platform": "pinduoduo", "rules": ["PDD-R3"]}, "as_of": "2026-11-22",
              "metrics": [], "findings": findings, "summary": {"points": []}}
    text = digest(report)
    assert "New findings (1 of 2)" in text and "新人" in text and "老人" not in text


def test_digest_names_the_conversation_to_open_and_lists_incidents_before_rates(cli):
    """The digest is what the group reads at 9 a.m.: a finding in a conversation (an insult,
    a WeChat id) names it, so the supervisor knows which chat to open, and comes before the
    week's failed rates (already the sections above), which had pushed every incident behind
    `……另有 32 项`. The title names the platform as its readers do (快手小店, not kuaishou)."""
    run = cli("audit", LARGEST, "-p", "kuaishou", "-f", "json", "--exit-zero", "--no-history")
    report = run.json()
    incidents = [f for f in report["findings"] if f["conversation"] and f["severity"] == "error"]
    rates = [f for f in report["findings"] if not f["conversation"] and f["severity"] == "error"]
    assert incidents and rates, "the sample needs both kinds"
    zh = cli("audit", LARGEST, "-p", "kuaishou", "-f", "digest", "--exit-zero", "--no-history", "--lang", "zh")
    assert zh.out.startswith("**cservice-audit · 快手小店 · 2026-11-22**"), zh.out[:80]
    lines = zh.out.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\*\*(新)?问题（", line))
    listed = [line for line in itertools.takewhile(bool, lines[start + 1:]) if line.startswith("- KS-")]
    first = min(incidents, key=lambda f: (f["code"], f["shop"] or "", f["agent"] or "", f["ts"] or ""))
    assert any(f"会话 {first['conversation']}：" in line for line in listed), listed
    with_id = [i for i, line in enumerate(listed) if "会话 " in line]
    without = [i for i, line in enumerate(listed) if "会话 " not in line]
    assert with_id and (not without or max(with_id) < min(without)), listed
    en = cli("audit", LARGEST, "-p", "kuaishou", "-f", "digest", "--exit-zero", "--no-history", "--lang", "en")
    assert en.out.startswith("**cservice-audit · kuaishou · 2026-11-22**") and f"conversation {first['conversation']}: " in en.out, en.out[:600]


# --------------------------------------------------------------------------- paths and -q


def test_human_formats_carry_no_machine_path_unless_asked(cli, write, tmp_path):
    write("in/chats.csv", FAILING)
    history = tmp_path / "secret-history-folder"
    args = ("audit", "in/chats.csv", "-p", "pdd", "--exit-zero", "--history", history, "--shop", "店")
    for fmt in ("markdown", "table", "digest"):
        run = cli(*args, "-f", fmt)
        assert run.code == 0, run.err
        assert "secret-history-folder" not in run.out and "in/chats.csv" not in run.out, fmt
    shown = cli(*args, "-f", "markdown", "--show-paths")
    assert "secret-history-folder" in shown.out and "in/chats.csv" in shown.out
    quiet = cli(*args, "-f", "markdown", "-q")
    assert "## Findings" in quiet.out
    assert "ruleset pinduoduo" not in quiet.out and "## PDD-R3" not in quiet.out  # -q: findings only


# --------------------------------------------------------------------------- workbook


@pytest.fixture(scope="module")
def workbook(tmp_path_factory, cli_factory):
    tmp = tmp_path_factory.mktemp("xlsx")
    (tmp / "chats.csv").write_text(HOSTILE, "utf-8")
    cli = cli_factory(tmp)
    json_run, xlsx_run = cli.many(
        ("audit", "chats.csv", "-p", "pdd", "--exit-zero", "-f", "json"),
        ("audit", "chats.csv", "-p", "pdd", "--exit-zero", "-f", "xlsx", "-o", "report.xlsx"),
    )
    assert xlsx_run.code == 0 and xlsx_run.out == "", xlsx_run.err
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the test extras")
    return openpyxl.load_workbook(tmp / "report.xlsx"), json_run.json()


def _table(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_workbook_sheets_and_headers(workbook):
    book, report = workbook
    rules = list(dict.fromkeys(m["rule"] for m in report["metrics"]))
    late = ["Late items"] if report.get("items") else []
    assert report.get("items"), "the PDD sample has failing reply rates, so late items"
    rejected = ["Rejected rows"] if report["input"]["rows_rejected"] else []  # no empty sheet
    assert book.sheetnames == ["Summary", *rules, "Findings", *late, *rejected, "About"]
    assert len(_table(book["Late items"])) == len(report["items"])
    findings = book["Findings"]
    # The JSON's columns, but one message: the reader's language in `message` (docs/i18n.md);
    # the tier's rank (a baseline's sort key) left to the JSON, the fingerprint last.
    keys = [k for k in report["findings"][0] if k not in ("message_zh", "tier_rank", "fingerprint")]
    assert [c.value for c in findings[1]] == [*keys, "fingerprint"]
    assert len(_table(findings)) == len(report["findings"])
    summary = _table(book["Summary"])
    assert {"shop", "agent", "PDD-R3", "points"} <= set(summary[0])


def test_a_run_of_several_days_shows_a_failure_of_any_of_them(cli, tmp_path):
    """A week's audit showed daily rules on its last day alone: agents with off-platform
    findings earlier in the week read 全部达标, and the digest said one agent failed while
    listing three. Now a failure in any finished day of the run marks the cell, a note says
    so, and the digest's incidents carry their day. A nightly run (--date) is unchanged."""
    import openpyxl

    rows = ["ts,buyer,role,agent,text"]
    for day, late in (("2026-11-21", True), ("2026-11-22", False)):
        for i in range(6):
            rows.append(f"{day} 10:{i:02d}:00,b{day[-2:]}{i},buyer,,在吗")
            wait = 900 if late else 30
            rows.append(f"{day} 10:{i + wait // 60:02d}:{wait % 60:02d},b{day[-2:]}{i},agent,小周,在的")
        rows.append(f"{day} 11:00:00,c{day[-2:]},buyer,,能便宜点吗")
        rows.append(f"{day} 11:00:20,c{day[-2:]},agent,阿强,{'亲，加我微信给您优惠' if late else '亲，已经是活动价了哦'}")
    export = tmp_path / "week.csv"
    export.write_text("\n".join(rows) + "\n", "utf-8")

    def summary(*extra):
        run = cli("audit", export, "-p", "pinduoduo", "--no-history", "--exit-zero", "--lang", "zh", "-f", "xlsx", "-o", tmp_path / "w.xlsx", *extra)
        assert run.code == 0, run.err
        sheet = openpyxl.load_workbook(tmp_path / "w.xlsx")["概览"]
        values = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
        header = next(i for i, r in enumerate(values) if r[0] == "店铺")
        table = [dict(zip(values[header], r, strict=True)) for r in values[header + 1 :]]
        return {r["客服"]: r for r in table}, [r[0] for r in values[:header]], run.err

    week, above, err = summary()
    assert week["小周"]["PDD-R3"] == "未达标" and week["阿强"]["PDD-P2"] == "未达标", week
    said = "本次审核 2026-11-21..2026-11-22 多天：按日、周、月计的规则，任一期未达标即标为未达标（不只看最后一天）"
    assert said in err and any(said in (line or "") for line in above), (err, above)
    night, above, err = summary("--date", "2026-11-22")
    assert night["小周"]["PDD-R3"] == "达标" and night["阿强"]["PDD-P2"] == "达标", night
    assert "本次审核" not in err and not any("本次审核" in (line or "") for line in above)
    digest = cli("audit", export, "-p", "pinduoduo", "--no-history", "--exit-zero", "--lang", "zh", "-f", "digest").out
    assert "- **小周**：未达标 PDD-R3" in digest and "- **阿强**：未达标 PDD-P2" in digest, digest
    assert "- PDD-P2 阿强 11-21 11:00 会话 -/c21：" in digest, digest
    # A nightly two-day export (the day before judged again for its late replies) against last
    # night's report: the day before's failures are known, not tonight's news (a review found
    # them marked and noted every night).
    first = tmp_path / "first.csv"
    first.write_text("\n".join(r for r in rows if not r.startswith("2026-11-22")) + "\n", "utf-8")
    assert cli("audit", first, "-p", "pinduoduo", "--no-history", "-f", "json", "-o", tmp_path / "last.json").code == 1
    night, above, err = summary("--baseline", tmp_path / "last.json")
    assert night["小周"]["PDD-R3"] == "达标" and night["阿强"]["PDD-P2"] == "达标", night
    assert "本次审核" not in err and not any("本次审核" in (line or "") for line in above), err


def test_a_chinese_workbook_reads_as_a_supervisor_expects(cli, tmp_path):
    """What a supervisor saw in WPS: 规则名 in English slugs (`confrontational-language`),
    档次序号 -1 among the columns, counts as `170.00`, and the About sheet's time in UTC while
    every other time is Beijing's."""
    import openpyxl

    run = cli("audit", LARGEST, "-p", "kuaishou", "--exit-zero", "--no-history", "--lang", "zh", "-f", "xlsx", "-o", tmp_path / "周.xlsx")
    assert run.code == 0, run.err
    book = openpyxl.load_workbook(tmp_path / "周.xlsx")
    findings = _table(book["问题"])
    assert "档次序号" not in findings[0] and list(findings[0])[-1] == "指纹", list(findings[0])
    names = {row["规则代码"]: row["规则名"] for row in findings}
    assert names.get("KS-P2") == "站外联系/好评返现" and names.get("KS-R3") == "人工客服3分钟回复率", names
    # 状态 says what every finding is: a phrase incident is 违规 (it was empty, so a filter on
    # 状态 dropped the insults and WeChat ids); a rate keeps its period status.
    by_code = {}
    for row in findings:
        by_code.setdefault(row["规则代码"], set()).add(row["状态"])
    assert by_code["KS-P2"] == {"违规"} and by_code["KS-R3"] <= {"未达标", "有风险"}, by_code
    assert all(row["状态"] for row in findings), [row for row in findings if not row["状态"]][:2]
    card = book["KS-R3"]
    header = [c.value for c in card[1]]
    for column in ("计入", "及时"):
        cell = card.cell(row=2, column=header.index(column) + 1)
        assert isinstance(cell.value, int) and ".00" not in cell.number_format, (column, cell.value, cell.number_format)
    # 周期已结束 said in words (it showed TRUE/FALSE), the days with data not called a rate.
    rows = _table(card)
    assert {row["周期已结束"] for row in rows} <= {"是", "否"} and "覆盖率" not in rows[0], rows[0]
    assert all(isinstance(row["有数据天数"], int) for row in rows), rows[0]
    # The About sheet's counts are numbers and its time a date (all were text); no rejected
    # rows, no empty sheet for them.
    about = dict(book.worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert book.sheetnames[-1] == "说明" and "拒收行" not in book.sheetnames, book.sheetnames
    assert about["拒收行数"] == 0 and isinstance(about["读取行数"], int) and about["读取行数"] > 1000, about
    # Beijing time, as every other time of the workbook (it said UTC)
    beijing = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert about["平台"] == "快手小店（kuaishou）", about  # it was the code alone
    assert about["时区"] == "Asia/Shanghai" and abs((about["生成时间"] - beijing).total_seconds()) < 600, about


def test_a_workbook_lists_rejected_rows_in_the_readers_words(cli, tmp_path):
    """The rejected rows' sheet exists when rows were rejected, with the file's line and
    the reason and every header in Chinese (the export's optional columns read `spam`,
    `rating`, `served_by`)."""
    import openpyxl

    export = tmp_path / "导出.csv"
    export.write_text(
        "发送时间,买家,发送方,客服账号,消息内容,疑似骚扰,评价结果,接待方式,消息ID\n"
        "2026-11-22 10:00:00,b1,买家,,在吗,否,,,m1\n"
        "2026-11-22 10:00:30,b1,客服,小美,在的亲,否,,人工,m2\n"
        "2026-11-22 10:01:00,b1,外星人,,你好,否,,,m3\n",
        "utf-8",
    )
    run = cli("audit", export, "-p", "pinduoduo", "--exit-zero", "--no-history", "--lang", "zh", "-f", "xlsx", "-o", tmp_path / "r.xlsx")
    assert run.code == 0, run.err
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames[-2:] == ["拒收行", "说明"], book.sheetnames
    rows = _table(book["拒收行"])
    assert len(rows) == 1 and rows[0]["行号"] == 4 and rows[0]["文件"] == "导出.csv", rows
    assert {"疑似骚扰", "评价结果", "接待方式", "消息ID"} <= set(rows[0]) and not any(k.isascii() for k in rows[0]), rows[0]


def test_workbook_types_dates_numbers_percentages(workbook):
    from datetime import datetime

    book, report = workbook
    by_print = {f["fingerprint"]: f for f in report["findings"]}
    rows = _table(book["Findings"])
    timed = [r for r in rows if r["ts"] is not None]
    assert timed
    for row in timed:
        assert isinstance(row["ts"], datetime) and row["ts"].tzinfo is None
        # Local wall time of the ruleset's zone, as in the JSON (without its offset).
        assert row["ts"].isoformat() == by_print[row["fingerprint"]]["ts"][:19]
    assert all(isinstance(r["points"], (int, float)) for r in rows if r["points"] is not None)
    card = book["PDD-R3"]
    header = [c.value for c in card[1]]
    value = card.cell(row=2, column=header.index("rate") + 1)  # a reply rule's value is its rate
    assert isinstance(value.value, (int, float)) and "%" in value.number_format
    counted = card.cell(row=2, column=header.index("counted") + 1).value
    assert isinstance(counted, int)
    start = card.cell(row=2, column=header.index("period_start") + 1)
    assert isinstance(start.value, datetime) and start.number_format == "yyyy-mm-dd"


def test_workbook_chinese_name_and_formula_text(workbook):
    book, _ = workbook
    agents = [r["agent"] for r in _table(book["Summary"])]
    assert "小美" in agents
    formula_cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []  # nothing in the workbook runs
    guarded = [c for row in book["Summary"].iter_rows() for c in row if isinstance(c.value, str) and FORMULA in c.value]
    assert guarded and all(c.data_type == "s" and c.value == "'" + FORMULA for c in guarded)
    # Chinese text counts double: the message column is wider than its character count.
    findings = book["Findings"]
    header = [c.value for c in findings[1]]
    letter = findings.cell(row=1, column=header.index("message") + 1).column_letter
    longest = max(len(str(c.value or "")) for c in findings[letter])
    assert findings.column_dimensions[letter].width > longest


def test_workbook_frozen_filtered_coloured(workbook):
    book, _ = workbook
    for sheet in book.worksheets:
        assert sheet.freeze_panes in ("A2", "C2"), sheet.title
        (table,) = sheet.tables.values()
        assert table.autoFilter is not None and table.ref.startswith("A1:"), sheet.title
    rules = [r for cf in book["Summary"].conditional_formatting for r in cf.rules]
    assert any(r.formula and '"fail"' in r.formula[0] for r in rules)
    assert any(r.formula and '"at risk"' in r.formula[0] for r in rules)


# Each rule sheet's headers say what its numbers are for what the rule checks, in the words of
# the terminal's scorecard (messages.yaml col.*), with the seconds the table writes in its
# cells; the waits only on rules about replies. Before: every sheet read 计入 / 达标数 / 数值
# and carried the wait columns, so a phrase rule's one violation read "达标数 1".
SHEET_HEADERS = {
    "zh": {
        "PDD-R3": ["计入", "及时", "比率", "标准", "状态", "已回复", "平均（秒）", "中位（秒）", "P90（秒）", "分值", "有数据天数"],
        "TB-A1": ["计入", "总等待（秒）", "平均等待（秒）", "标准（秒）", "状态", "已回复", "平均（秒）", "中位（秒）", "P90（秒）", "分值", "有数据天数"],
        "PDD-P1": ["消息", "命中", "标准", "状态", "分值", "有数据天数"],
        "TB-P5": ["消息", "命中", "标准", "状态", "分值", "有数据天数"],
        "PDD-N1": ["轮次", "次数", "标准", "状态", "分值", "有数据天数"],
    },
    "en": {
        "PDD-R3": ["counted", "on time", "rate", "threshold", "status", "answered", "mean (s)", "p50 (s)", "p90 (s)", "points", "coverage"],
        "TB-A1": ["counted", "total wait (s)", "mean wait (s)", "threshold (s)", "status", "answered", "mean (s)", "p50 (s)", "p90 (s)", "points", "coverage"],
        "PDD-P1": ["messages", "matches", "threshold", "status", "points", "coverage"],
        "TB-P5": ["messages", "matches", "threshold", "status", "points", "coverage"],
        "PDD-N1": ["turns", "occurrences", "threshold", "status", "points", "coverage"],
    },
}
SHEET_LEAD = {"zh": ["店铺", "客服", "周期", "周期开始", "周期结束", "周期已结束"],
              "en": ["shop", "agent", "period", "period_start", "period_end", "complete"]}  # fmt: skip
# Which metric field each of those headers holds (the numbers must be the JSON's).
SHEET_FIELDS = {
    "PDD-R3": ["denominator", "numerator", "value", "threshold", "status", "answered", "wait_mean", "wait_p50", "wait_p90", "points", "coverage"],
    "TB-A1": ["denominator", "numerator", "value", "threshold", "status", "answered", "wait_mean", "wait_p50", "wait_p90", "points", "coverage"],
    "PDD-P1": ["denominator", "numerator", "threshold", "status", "points", "coverage"],
    "TB-P5": ["denominator", "numerator", "threshold", "status", "points", "coverage"],
    "PDD-N1": ["denominator", "numerator", "threshold", "status", "points", "coverage"],
}


@pytest.fixture(scope="module")
def rule_sheets(tmp_path_factory, cli_factory):
    """The PDD sample (reply rate, phrases, long no-reply) and the Taobao one (average wait,
    phrases) as workbooks in both languages, read back, and their JSON reports."""
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the test extras")
    tmp = tmp_path_factory.mktemp("xlsx-headers")
    cli = cli_factory(tmp)
    samples = {"pdd": SAMPLE_PDD, "taobao": SAMPLE_TAOBAO}
    jobs = [(platform, lang) for platform in samples for lang in ("zh", "en")]
    base = lambda platform: ("audit", samples[platform], "-p", platform, "--no-history", "--exit-zero")  # noqa: E731
    runs = cli.many(
        *((*base(platform), "--lang", lang, "-f", "xlsx", "-o", f"{platform}-{lang}.xlsx") for platform, lang in jobs),
        *((*base(platform), "-f", "json") for platform in samples),
    )
    assert all(r.code == 0 for r in runs), [r.err for r in runs]
    books = {job: openpyxl.load_workbook(tmp / f"{job[0]}-{job[1]}.xlsx") for job in jobs}
    sheets = {lang: {} for lang in ("zh", "en")}
    for (_, lang), book in books.items():
        for sheet in book.worksheets:
            sheets[lang][sheet.title] = list(sheet.iter_rows(values_only=True))
    metrics = [m for run in runs[len(jobs):] for m in run.json()["metrics"]]
    return sheets, metrics


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("code", list(SHEET_FIELDS))
def test_rule_sheet_headers_say_what_the_rule_counts(rule_sheets, code, lang):
    sheets, _ = rule_sheets
    header = list(sheets[lang][code][0])
    assert header == SHEET_LEAD[lang] + SHEET_HEADERS[lang][code], header
    if code.startswith(("PDD-P", "TB-P", "PDD-N")):
        # No generic rate words and no waits on a rule that counts occurrences.
        assert not {"达标数", "数值", "numerator", "value", "wait_mean", "平均等待（秒）"} & set(header)


@pytest.mark.parametrize("code", list(SHEET_FIELDS))
def test_rule_sheet_numbers_sit_under_their_words(rule_sheets, code):
    """The shop total's numbers under each header are the JSON metric's fields it names
    (the Chinese sheet: 命中 is the phrase rule's violations, 总等待 the wait in seconds)."""
    sheets, metrics = rule_sheets
    rows = sheets["zh"][code]
    total = next(dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[1] == "（全店）")
    shop = [m for m in metrics if m["rule"] == code and m["scope"] == "shop"]
    metric = next(m for m in shop if str(total["周期开始"].date()) == m["period_start"])
    words = {"pass": "达标", "fail": "未达标", "at_risk": "有风险", "insufficient": "样本不足"}
    for word, field in zip(SHEET_HEADERS["zh"][code], SHEET_FIELDS[code], strict=True):
        expected = words[metric[field]] if field == "status" else metric[field]
        assert total[word] == (pytest.approx(expected) if isinstance(expected, float) else expected), (word, field)


def test_workbook_needs_a_file(cli, write):
    write("chats.csv", FAILING)
    for args in ((), ("-o", "report.csv")):
        run = cli("audit", "chats.csv", "-p", "pdd", "-f", "xlsx", *args)
        assert run.code == 2 and run.out == "" and len(run.err_lines()) == 1, run.err
        assert ".xlsx" in run.err


# --------------------------------------------------------------------------- late items


def test_late_items_reach_the_workbook_and_the_page(tmp_path):
    """`result.items` (added by the drill-down work) is optional: when present, the workbook
    has a sheet of it and the page a section, and the waits become a histogram."""
    from datetime import datetime, timezone

    from cservice_audit.audit import AuditOptions, run_audit
    from cservice_audit.render import html, xlsx
    from cservice_audit.ruleset import load_platform

    openpyxl = pytest.importorskip("openpyxl")
    (tmp_path / "chats.csv").write_text(HOSTILE, "utf-8")
    result = run_audit([str(tmp_path / "chats.csv")], load_platform("pinduoduo"), AuditOptions(),
                       generated_at=datetime(2026, 11, 23, tzinfo=timezone.utc))
    assert getattr(result, "items", None) is None or isinstance(result.items, pl.DataFrame)
    result.items = pl.DataFrame(
        {"rule": ["PDD-R3", "PDD-R5"], "agent": ["小美", FORMULA],
         "asked": [datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc), datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)],
         "wait": [600.0, 1200.0]},
        schema_overrides={"asked": pl.Datetime("ms", "UTC")},
    )  # fmt: skip
    (tmp_path / "r.xlsx").write_bytes(xlsx.render(result))
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Late items"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("rule", "agent", "asked", "wait")
    assert rows[1][2] == datetime(2026, 11, 22, 10, 0)  # 02:00 UTC is 10:00 in Shanghai
    assert rows[2][1] == "'" + FORMULA
    page = html.render(result)
    assert '<section id="items">' in page and "2026-11-22 10:00:00" in page
    assert "Wait of each listed item" in page


def test_review_rules_name_what_they_count(cli):
    """Both review rules' scorecards said 计入/命中 (counted/hits), a phrase rule's words: a
    good-review rate read "命中 49" and the attitude share did not say its base is the neutral
    and disappointed reviews only. The table, Markdown and the workbook now say 评价/好评 and
    中差评/态度差 (a Kuaishou supervisor's week, 2026-12-07)."""
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the test extras")
    week = SAMPLE_PDD.parent / "kuaishou-2026-11-16-week.csv"
    base = ("audit", week, "-p", "kuaishou", "--no-history", "--exit-zero")
    zh_table, en_md, zh_book, en_book = cli.many(
        (*base, "--lang", "zh", "-f", "table"),
        (*base, "--lang", "en", "-f", "markdown"),
        (*base, "--lang", "zh", "-f", "xlsx", "-o", "zh.xlsx"),
        (*base, "--lang", "en", "-f", "xlsx", "-o", "en.xlsx"),
    )
    assert all(r.code == 0 for r in (zh_table, en_md, zh_book, en_book)), zh_table.err + en_md.err + zh_book.err + en_book.err
    heads = {}
    for line in zh_table.out.splitlines():
        if line.startswith("┃ 客服"):
            heads.setdefault(len(heads), [c.strip() for c in line.strip("┃").split("┃")])
    assert ["客服", "评价", "好评", "比率", "状态", "处罚档"] in heads.values(), heads
    assert ["客服", "中差评", "态度差", "比率", "状态", "处罚档"] in heads.values(), heads
    assert "| agent | reviews | good | rate | status | tier |" in en_md.out, en_md.out
    assert "| agent | neutral+bad | about attitude | rate | status | tier |" in en_md.out
    for name, g1, g2 in (("zh.xlsx", ["评价", "好评"], ["中差评", "态度差"]), ("en.xlsx", ["reviews", "good"], ["neutral+bad", "about attitude"])):
        book = openpyxl.load_workbook(cli.cwd / name)
        for code, words in (("KS-G1", g1), ("KS-G2", g2)):
            header = next(book[code].iter_rows(max_row=1, values_only=True))
            assert list(header[6:8]) == words, (name, code, header)
            assert not {"命中", "hits"} & set(header), header
        # The phrase rules keep their words.
        assert next(book["KS-P1"].iter_rows(max_row=1, values_only=True))[7] in ("命中", "matches")
        # An agent's tiers, one cell, joined as the language joins them (they were "; " in Chinese).
        tiers = [c for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str) and c.startswith("KS-R3 ") and "KS-G1 " in c]
        assert tiers and all(("；KS-G1 " in c) == (name == "zh.xlsx") and ("; " in c) == (name == "en.xlsx") for c in tiers), (name, tiers)


def test_a_platform_without_points_has_no_points_column_in_the_workbook_or_html(cli):
    """JD counts violations, no points: the table left the 分值 column out, the workbook's 概览
    sheet and the HTML matrix showed it, a column of zeros (blanks) beside failing rules
    (newcomer hO). Pinduoduo, which deducts points, keeps it."""
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the test extras")
    jd = SAMPLE_PDD.parent / "jd-2026-11-22-gb18030.csv"
    runs = cli.many(
        ("audit", jd, "-p", "jd", "--no-history", "--exit-zero", "--lang", "zh", "-f", "xlsx", "-o", "jd.xlsx"),
        ("audit", SAMPLE_PDD, "-p", "pinduoduo", "--no-history", "--exit-zero", "--lang", "zh", "-f", "xlsx", "-o", "pdd.xlsx"),
        ("audit", jd, "-p", "jd", "--no-history", "--exit-zero", "--lang", "zh", "-f", "html", "-o", "jd.html"),
    )
    assert all(r.code == 0 for r in runs), [r.err for r in runs]
    heads = {}
    for name in ("jd.xlsx", "pdd.xlsx"):
        book = openpyxl.load_workbook(cli.cwd / name)
        heads[name] = next(book["概览"].iter_rows(max_row=1, values_only=True))
    assert "分值" not in heads["jd.xlsx"] and heads["jd.xlsx"][-1] == "处罚档", heads
    assert heads["pdd.xlsx"][-2:] == ("分值", "处罚档"), heads
    page = (cli.cwd / "jd.html").read_text("utf-8")
    matrix = page[page.index('<table id="matrix">') :].split("</thead>")[0]
    assert "<th>JD-P1</th><th>处罚档</th>" in matrix and "分值" not in matrix, matrix


def test_a_day_rate_in_the_digest_names_its_day_once(cli, tmp_path):
    """`DY-R3 小周 2026-11-16：3分钟人工回复率 58.7%…低于 80.0%，2026-11-16`: a day's rate gave its
    day before the colon and again in its message. Once now; an incident keeps its time."""
    rows = ["ts,shop,buyer,role,agent,text"]
    for day in ("2026-11-21", "2026-11-22"):
        rows += [f"{day} 10:00:00,店,b1,buyer,,在吗", f"{day} 10:09:00,店,b1,agent,小周,在的"]  # late: PDD-R3 fails that day
        rows += [f"{day} 11:00:00,店,b2,buyer,,发货吗", f"{day} 11:00:10,店,b2,agent,小周,加我微信发你"]
    (tmp_path / "two.csv").write_text("\n".join(rows) + "\n", "utf-8")
    out = cli("audit", "two.csv", "-p", "pinduoduo", "--no-history", "--exit-zero", "--lang", "zh", "-f", "digest").out
    lines = [line for line in out.splitlines() if line.startswith("- PDD-")]
    rates = [line for line in lines if line.startswith("- PDD-R3 小周")]
    assert len(rates) == 2 and all(line.count(day) == 1 for line, day in zip(sorted(rates), ("2026-11-21", "2026-11-22"))), out
    assert any(line.startswith("- PDD-P2 小周 11-21 11:00 ") for line in lines), out
