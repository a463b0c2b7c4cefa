"""End-to-end tests of the command line (spec/metrics.md §9 output contract, §10 exit status),
run through the installed `cservice-audit` command."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

FORMATS = ("table", "json", "jsonl", "csv", "markdown")

from transcripts import FAILING, HEADER
CLEAN = HEADER + (
    "2026-11-22 09:00:00,b1,买家,,在吗\n"
    "2026-11-22 09:01:00,b1,客服,a1,在的\n"
)
# Clean, plus one row whose timestamp cannot be read: only a PDD-D1 warning.
WARNING_ONLY = CLEAN + "not-a-time,b9,买家,,坏行\n"

TOP_KEYS = {"schema_version", "tool_version", "generated_at", "ruleset", "input", "as_of", "metrics", "findings"}
INPUT_KEYS = {"files", "rows_read", "rows_used", "rows_rejected", "rows_duplicate", "first_ts", "last_ts"}
METRIC_KEYS = {"rule", "scope", "shop", "agent", "period", "period_start", "period_end",
               "numerator", "denominator", "value", "threshold", "status"}  # fmt: skip
FINDING_KEYS = {"code", "severity", "shop", "agent", "conversation", "buyer", "day", "ts",
                "message", "evidence", "points", "fingerprint"}  # fmt: skip


def _without_generated_at(text: str) -> str:
    """The report minus what differs by run or machine: the time and the history folder
    (each test command gets its own empty one)."""
    text = re.sub(r'"generated_at": ?"[^"]*"', '"generated_at": "X"', text)
    return re.sub(r'"folder": ?"[^"]*"', '"folder": "X"', text)


def _codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"]}


# --------------------------------------------------------------------------- formats


@pytest.fixture(scope="module")
def format_runs(tmp_path_factory, cli_factory):
    """Every format on the failing transcript; json and csv twice for determinism."""
    tmp = tmp_path_factory.mktemp("formats")
    (tmp / "chats.csv").write_text(FAILING, "utf-8")
    cli = cli_factory(tmp)
    twice = ("json", "csv")
    commands = [(fmt, ("audit", "chats.csv", "--platform", "pdd", "--format", fmt))
                for fmt in FORMATS for _ in range(2 if fmt in twice else 1)]
    runs = cli.many(*(args for _, args in commands))
    by_format: dict[str, list] = {}
    for (fmt, _), run in zip(commands, runs, strict=True):
        by_format.setdefault(fmt, []).append(run)
    return by_format


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_runs_and_exits_1_on_errors(format_runs, fmt):
    first = format_runs[fmt][0]
    assert first.code == 1, first.err
    assert first.out.strip(), f"{fmt} printed nothing"
    assert "Traceback" not in first.err
    assert first.err.strip() == "", f"{fmt}: a run without rejected rows writes nothing on stderr: {first.err!r}"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_two_runs_are_identical_except_generated_at(format_runs, fmt):
    first, second = format_runs[fmt]
    assert second.code == first.code
    assert _without_generated_at(first.out) == _without_generated_at(second.out)


def test_json_report_shape_and_numbers(format_runs):
    report = format_runs["json"][0].json()
    assert TOP_KEYS <= set(report)
    assert report["schema_version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", report["tool_version"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", report["generated_at"])
    assert report["ruleset"]["platform"] == "pinduoduo"
    assert report["ruleset"]["version"] == "2025.1"
    assert "pinduoduo" in report["ruleset"]["origin"]

    inp = report["input"]
    assert INPUT_KEYS <= set(inp)
    assert [f["file"] for f in inp["files"]] == ["chats.csv"]
    assert inp["rows_read"] == 4
    assert inp["rows_read"] == inp["rows_used"] + inp["rows_rejected"] + inp["rows_duplicate"]
    assert (inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (4, 0, 0)
    # Host runs in UTC (TZ=UTC in the fixture): times are still Asia/Shanghai local.
    assert inp["first_ts"] == "2026-11-22T09:00:00+08:00"
    assert inp["last_ts"] == "2026-11-22T10:10:00+08:00"
    assert report["as_of"] == "2026-11-22"

    assert report["metrics"], "no metrics"
    for metric in report["metrics"]:
        assert METRIC_KEYS <= set(metric), metric
        assert metric["scope"] in ("agent", "shop")
        assert (metric["agent"] is None) == (metric["scope"] == "shop"), metric
        assert metric["status"] in ("pass", "fail", "at_risk", "insufficient")
    shop_r3 = [m for m in report["metrics"] if m["rule"] == "PDD-R3" and m["scope"] == "shop"]
    assert len(shop_r3) == 1
    m = shop_r3[0]
    assert (m["period"], m["period_start"], m["period_end"]) == ("day", "2026-11-22", "2026-11-22")
    assert (m["numerator"], m["denominator"], m["value"], m["threshold"], m["status"]) == (1, 2, 0.5, 0.8, "fail")
    by_agent = {
        mm["agent"]: mm["status"] for mm in report["metrics"] if mm["rule"] == "PDD-R3" and mm["scope"] == "agent"
    }
    assert by_agent == {"a1": "pass", "a2": "fail"}

    assert report["findings"], "no findings"
    for finding in report["findings"]:
        assert FINDING_KEYS <= set(finding), finding
        assert finding["severity"] in ("error", "warning", "info")
        assert re.fullmatch(r"[0-9a-f]{8,}", finding["fingerprint"])
    assert _codes(report) == {"PDD-R3", "PDD-R5"}
    prints = [f["fingerprint"] for f in report["findings"]]
    assert len(prints) == len(set(prints)), "fingerprints must tell findings apart"
    r3_agents = sorted((f["agent"] or "") for f in report["findings"] if f["code"] == "PDD-R3")
    assert r3_agents == ["", "a2"]  # the shop finding and a2's


def test_jsonl_every_line_parses_and_matches_json(format_runs):
    report = format_runs["json"][0].json()
    lines = format_runs["jsonl"][0].out.splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(r, dict) for r in records)
    types = [r.get("type") for r in records]
    assert types.count("metric") == len(report["metrics"])
    assert types.count("finding") == len(report["findings"])
    findings = [r for r in records if r.get("type") == "finding"]
    assert [f["fingerprint"] for f in findings] == [f["fingerprint"] for f in report["findings"]]
    # The drill-down items (written in slices) are the JSON's, in the same order.
    items = [{k: v for k, v in r.items() if k != "type"} for r in records if r.get("type") == "item"]
    assert report["items"] and items == report["items"]


def test_csv_parses_one_row_per_finding(format_runs):
    report = format_runs["json"][0].json()
    rows = list(csv.DictReader(io.StringIO(format_runs["csv"][0].out)))
    assert len(rows) == len(report["findings"])
    assert [(r["code"], r["fingerprint"]) for r in rows] == [(f["code"], f["fingerprint"]) for f in report["findings"]]
    assert [r["agent"] for r in rows] == [f["agent"] or "" for f in report["findings"]]


def test_markdown_and_table_render_the_same_findings(format_runs):
    report = format_runs["json"][0].json()
    n = len(report["findings"])
    md = format_runs["markdown"][0].out
    assert md.startswith("# ")
    assert f"## Findings ({n})" in md
    assert "PDD-R3" in md and "a2" in md
    table = format_runs["table"][0].out
    assert f"Findings ({n})" in table
    assert "PDD-R5" in table
    assert "\x1b[" not in table  # not a terminal: no colour codes


def test_scorecard_points_print_no_negative_zero(format_runs):
    # PDD-N1 has points -10 per occurrence; with 0 occurrences the points are 0, not "-0".
    for fmt in ("markdown", "table"):
        out = format_runs[fmt][0].out
        assert not re.search(r"(?<![\w.])-0(?![\w.])", out), f"{fmt} prints a negative zero:\n{out}"


# --------------------------------------------------------------------------- exit codes


def test_exit_codes_clean_and_exit_zero(cli, write):
    write("clean.csv", CLEAN)
    write("failing.csv", FAILING)
    clean, zero = cli.many(
        ("audit", "clean.csv", "-p", "pdd", "-f", "json"),
        ("audit", "failing.csv", "-p", "pdd", "-f", "json", "--exit-zero"),
    )
    assert clean.code == 0, clean.err
    assert clean.json()["findings"] == []
    assert {m["status"] for m in clean.json()["metrics"]} == {"pass"}
    assert zero.code == 0
    assert _codes(zero.json()) == {"PDD-R3", "PDD-R5"}  # --exit-zero keeps the findings


def test_fail_on_warning_and_machine_formats_with_a_rejected_row(cli, write):
    """Only a PDD-D1 warning: exit 0 by default, 1 with --fail-on warning. In every machine
    format stdout is the payload only; the rejected-row note goes to stderr."""
    write("warn.csv", WARNING_ONLY)
    default, warning, lines = cli.many(
        ("audit", "warn.csv", "-p", "pdd"),  # not a terminal: json by default
        ("audit", "warn.csv", "-p", "pdd", "-f", "csv", "--fail-on", "warning"),
        ("audit", "warn.csv", "-p", "pdd", "-f", "jsonl", "--fail-on", "warning", "--exit-zero"),
    )
    report = default.json()
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("PDD-D1", "warning")]
    assert report["input"]["rows_rejected"] == 1
    assert default.code == 0
    assert warning.code == 1
    assert lines.code == 0

    rows = list(csv.DictReader(io.StringIO(warning.out)))
    assert [r["code"] for r in rows] == ["PDD-D1"]
    types = [json.loads(line)["type"] for line in lines.out.splitlines()]
    assert types == ["report", *["metric"] * len(report["metrics"]), "finding"]
    for run in (default, warning, lines):
        assert "rejected" in run.err and "warn.csv:4" in run.err, run.err


CANNOT_RUN = {
    "missing-file": (("audit", "nosuch.csv", "-p", "pdd"), "nosuch.csv"),
    "no-platform": (("audit", "clean.csv"), "--platform"),
    "bad-date": (("audit", "clean.csv", "-p", "pdd", "--date", "2026-13-01"), "--date"),
    "since-after-until": (("audit", "clean.csv", "-p", "pdd", "--since", "2026-11-23", "--until", "2026-11-22"), "--since"),
    "select-nothing": (("audit", "clean.csv", "-p", "pdd", "--select", "KS-"), "--select"),
    "bad-tz": (("audit", "clean.csv", "-p", "pdd", "--input-tz", "Mars/Base"), "--input-tz"),
    # A bad option value (typer's own parsing): spec §10 still asks for one line.
    "bad-format": (("audit", "clean.csv", "-p", "pdd", "-f", "xml"), "xml"),
}  # fmt: skip


@pytest.fixture(scope="module")
def cannot_run(cli_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cannot_run")
    (tmp / "clean.csv").write_text(CLEAN, "utf-8")
    cli = cli_factory(tmp)
    commands = [args if "-f" in args else (*args, "-f", "json") for args, _ in CANNOT_RUN.values()]
    return dict(zip(CANNOT_RUN, cli.many(*commands), strict=True))


@pytest.mark.parametrize("case", [c for c in CANNOT_RUN if c != "bad-format"])
def test_a_run_that_cannot_be_done_exits_2_with_one_line(cannot_run, case):
    code, out, err = cannot_run[case]
    assert code == 2, (out, err)
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert CANNOT_RUN[case][1] in lines[0]


def test_bad_option_value_exits_2_with_one_line(cannot_run):
    # spec §10: bad arguments -> exit 2 "with a one-line reason on stderr".
    code, out, err = cannot_run["bad-format"]
    assert code == 2
    assert out == ""
    assert "xml" in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err


# --------------------------------------------------------------------------- stdout / stderr


def test_output_file_written_and_stdout_empty(cli, write, tmp_path):
    write("failing.csv", FAILING)
    code, out, err = cli("audit", "failing.csv", "-p", "pdd", "-f", "csv", "-o", "report.csv")
    assert code == 1, err
    assert out == ""
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text("utf-8-sig"))))  # a file starts with a BOM
    assert {r["code"] for r in rows} == {"PDD-R3", "PDD-R5"}
    assert len(rows) == 4


def test_an_output_in_a_missing_folder_stops_before_anything_is_stored(cli, write, tmp_path):
    """A cron config's output in a folder that is not there: the audit ran, stored the night in
    the history, and only then failed to write the report (exit 2 over a half-done run,
    newcomer hO). It stops first now, with the same one line, and the history is untouched;
    a rejects file under a plain file is the same."""
    write("failing.csv", FAILING)
    (tmp_path / "plain").write_text("x", "utf-8")
    history = tmp_path / "h"
    report, rejects = cli.many(
        ("audit", "failing.csv", "-p", "pdd", "--history", history, "-f", "json", "-o", tmp_path / "nodir" / "r.json"),
        ("audit", "failing.csv", "-p", "pdd", "--history", history, "-f", "json", "--rejects", tmp_path / "plain" / "x.csv"),
    )
    assert report.code == 2 and report.err_lines() == [f"cservice-audit: error: {tmp_path / 'nodir' / 'r.json'}: cannot write the report (No such file or directory)"], report.err
    assert rejects.code == 2 and "cannot write the rejects file (Not a directory)" in rejects.err and report.out == rejects.out == "", rejects.err
    assert not history.exists(), sorted(history.rglob("*"))


# --------------------------------------------------------------------------- selection


def test_select_and_ignore_by_code_and_prefix(cli, write):
    write("failing.csv", FAILING)
    base = ("audit", "failing.csv", "-p", "pdd", "-f", "json")
    exact, prefix, ignore_prefix, ignore_list = cli.many(
        (*base, "--select", "pdd-r3"),  # codes are matched case-insensitively
        (*base, "--select", "PDD-R"),
        (*base, "--ignore", "PDD-R"),
        (*base, "--ignore", "PDD-R5,PDD-D1"),
    )
    r = exact.json()
    assert r["ruleset"]["rules"] == ["PDD-R3"]
    assert _codes(r) == {"PDD-R3"}
    assert {m["rule"] for m in r["metrics"]} == {"PDD-R3"}
    assert exact.code == 1

    r = prefix.json()
    assert r["ruleset"]["rules"] == ["PDD-R3", "PDD-R5"]
    assert _codes(r) == {"PDD-R3", "PDD-R5"}

    r = ignore_prefix.json()
    assert "PDD-N1" in r["ruleset"]["rules"] and "PDD-D1" in r["ruleset"]["rules"]
    assert not any(code.startswith("PDD-R") for code in r["ruleset"]["rules"])
    assert _codes(r) == set()
    assert {m["rule"] for m in r["metrics"]} >= {"PDD-N1"}
    assert not any(m["rule"].startswith("PDD-R") for m in r["metrics"])
    assert ignore_prefix.code == 0  # the failing rules were ignored

    r = ignore_list.json()
    assert "PDD-R3" in r["ruleset"]["rules"] and "PDD-N1" in r["ruleset"]["rules"]
    assert "PDD-R5" not in r["ruleset"]["rules"] and "PDD-D1" not in r["ruleset"]["rules"]
    assert _codes(r) == {"PDD-R3"}


def test_agent_keeps_only_that_agents_rows_and_shop_totals(cli, write):
    write("failing.csv", FAILING)
    run = cli("audit", "failing.csv", "-p", "pdd", "-f", "json", "--agent", "a2")
    assert run.code == 1
    report = run.json()
    agent_rows = [m for m in report["metrics"] if m["scope"] == "agent"]
    assert agent_rows and {m["agent"] for m in agent_rows} == {"a2"}  # a1's rows are gone
    assert any(m["scope"] == "shop" and m["rule"] == "PDD-R3" for m in report["metrics"]), "shop totals are kept"
    assert {(f["code"], f["agent"]) for f in report["findings"]} == {
        ("PDD-R3", "a2"), ("PDD-R3", None), ("PDD-R5", "a2"), ("PDD-R5", None)
    }


# Three days; 11-21 is the bad day (a2 answers after 10 minutes).
THREE_DAYS = HEADER + (
    "2026-11-20 09:00:00,b1,买家,,在吗\n"
    "2026-11-20 09:00:30,b1,客服,a1,在的\n"
    "2026-11-21 09:00:00,b2,买家,,在吗\n"
    "2026-11-21 09:10:00,b2,客服,a2,在的\n"
    "2026-11-22 09:00:00,b3,买家,,在吗\n"
    "2026-11-22 09:00:30,b3,客服,a1,在的\n"
)


def _r3_days(report: dict) -> set[str]:
    return {m["period_start"] for m in report["metrics"] if m["rule"] == "PDD-R3"}


def test_date_since_until_select_days(cli, write):
    write("days.csv", THREE_DAYS)
    base = ("audit", "days.csv", "-p", "pdd", "-f", "json")
    bad_day, since, until, span = cli.many(
        (*base, "--date", "2026-11-21"),
        (*base, "--since", "2026-11-22"),
        (*base, "--until", "2026-11-20"),
        (*base, "--since", "2026-11-21", "--until", "2026-11-22"),
    )
    r = bad_day.json()
    assert r["as_of"] == "2026-11-21"
    assert _r3_days(r) == {"2026-11-21"}
    assert {f["day"] for f in r["findings"] if f["code"] == "PDD-R3"} == {"2026-11-21"}
    assert bad_day.code == 1

    r = since.json()
    assert r["as_of"] == "2026-11-22"  # the last day in the data
    assert _r3_days(r) == {"2026-11-22"}
    assert r["findings"] == [] and since.code == 0
    r = until.json()
    assert r["as_of"] == "2026-11-20"
    assert _r3_days(r) == {"2026-11-20"} and until.code == 0
    assert _r3_days(span.json()) == {"2026-11-21", "2026-11-22"} and span.code == 1


# --------------------------------------------------------------------------- inputs


def test_stdin_csv_and_jsonl(cli):
    jsonl = (
        '{"时间": "2026-11-22 10:00:00", "买家": "b2", "发送方": "买家", "内容": "发货了吗"}\n'
        '{"时间": "2026-11-22 10:10:00", "买家": "b2", "发送方": "客服", "客服账号": "a2", "内容": "发了"}\n'
    )
    from_csv, from_jsonl = cli.many(
        {"args": ("audit", "-", "-p", "pdd", "-f", "json"), "stdin": FAILING.encode("utf-8")},
        {"args": ("audit", "-", "-p", "pdd", "-f", "json"), "stdin": jsonl.encode("utf-8")},
    )
    r = from_csv.json()
    assert from_csv.code == 1
    assert r["input"]["rows_read"] == 4
    assert r["input"]["files"][0]["format"] == "csv"
    assert _codes(r) == {"PDD-R3", "PDD-R5"}
    r = from_jsonl.json()
    assert from_jsonl.code == 1
    assert r["input"]["rows_read"] == 2 and r["input"]["rows_used"] == 2
    assert r["input"]["files"][0]["format"] == "jsonl"
    assert r["input"]["first_ts"] == "2026-11-22T10:00:00+08:00"
    assert {f["agent"] for f in r["findings"] if f["scope"] == "agent"} == {"a2"}


def test_glob_of_two_overlapping_files(cli, write):
    # day1 also holds the first exchange of day2 (exports overlap): counted as duplicates once.
    write("in/day1.csv", HEADER + "2026-11-21 09:00:00,b1,买家,,在吗\n2026-11-21 09:00:20,b1,客服,a1,在的\n"
          + FAILING.splitlines(keepends=True)[1] + FAILING.splitlines(keepends=True)[2])
    write("in/day2.csv", FAILING)
    write("elsewhere.csv", FAILING)  # not matched by the glob
    run = cli("audit", "in/*.csv", "-p", "pdd", "-f", "json")
    r = run.json()
    assert run.code == 1
    files = {f["file"]: f for f in r["input"]["files"]}
    assert sorted(files) == ["in/day1.csv", "in/day2.csv"]
    assert (files["in/day1.csv"]["rows_read"], files["in/day2.csv"]["rows_read"]) == (4, 4)
    inp = r["input"]
    assert (inp["rows_read"], inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (8, 6, 0, 2)
    assert inp["first_ts"] == "2026-11-21T09:00:00+08:00"
    assert _r3_days(r) == {"2026-11-21", "2026-11-22"}
    shop_r3 = {m["period_start"]: (m["numerator"], m["denominator"]) for m in r["metrics"]
               if m["rule"] == "PDD-R3" and m["scope"] == "shop"}
    assert shop_r3 == {"2026-11-21": (1, 1), "2026-11-22": (1, 2)}  # b1 on 11-22 counted once


# --------------------------------------------------------------------------- fingerprints


def test_fingerprints_change_with_the_shop_and_ignore_line_numbers(cli, write, format_runs):
    lines = FAILING.splitlines()
    write("s2.csv", "\n".join(["店铺," + lines[0], *("专营店," + line for line in lines[1:])]) + "\n")
    # A bad row, then the same file with a system message before it (its line moves).
    write("bad1.csv", WARNING_ONLY)
    write("bad2.csv", HEADER + "2026-11-22 08:59:00,b1,系统,,欢迎光临\n" + WARNING_ONLY.split("\n", 1)[1])
    s2, bad1, bad2 = cli.many(
        ("audit", "s2.csv", "-p", "pdd", "-f", "json"),
        ("audit", "bad1.csv", "-p", "pdd", "-f", "json"),
        ("audit", "bad2.csv", "-p", "pdd", "-f", "json"),
    )
    f1 = format_runs["json"][0].json()["findings"]  # the same chats without a shop column
    assert {f["shop"] for f in f1} == {"-"}
    p1 = [f["fingerprint"] for f in f1]
    f2 = s2.json()["findings"]
    assert {f["shop"] for f in f2} == {"专营店"}
    assert [(f["code"], f["agent"]) for f in f2] == [(f["code"], f["agent"]) for f in f1]
    assert not set(p1) & {f["fingerprint"] for f in f2}, "the shop is part of the fingerprint"

    d1 = [f for f in bad1.json()["findings"] if f["code"] == "PDD-D1"]
    d2 = [f for f in bad2.json()["findings"] if f["code"] == "PDD-D1"]
    assert len(d1) == len(d2) == 1
    assert d1[0]["evidence"].endswith(":4") and d2[0]["evidence"].endswith(":5")
    assert d1[0]["fingerprint"] == d2[0]["fingerprint"], "fingerprints never depend on row numbers"


# --------------------------------------------------------------------------- rules / explain


@pytest.fixture(scope="module")
def jd_rules(cli_factory, tmp_path_factory):
    """`rules --platform jd` as a wide table and as JSON."""
    cli = cli_factory(tmp_path_factory.mktemp("rules"))
    return cli.many(
        {"args": ("rules", "--platform", "jd"), "env": {"COLUMNS": "400"}},
        ("rules", "--platform", "jd", "--format", "json"),
    )


def test_rules_lists_jd_codes_as_table_and_json(jd_rules):
    table, as_json = jd_rules
    assert table.code == 0, table.err
    assert "JD-R30" in table.out and "JD-A1" in table.out
    line = next(line for line in table.out.splitlines() if "JD-R30" in line)
    assert "threshold=30" in line and "conversation" in line
    assert as_json.code == 0, as_json.err
    data = json.loads(as_json.out)
    assert data["platform"] == "jd"
    codes = [r["code"] for r in data["rules"]]
    assert "JD-R30" in codes and "JD-A1" in codes
    r30 = next(r for r in data["rules"] if r["code"] == "JD-R30")
    assert r30["params"]["threshold"] == 30
    assert r30["params"]["min_rate"] == 0.8
    assert data["session_gap"] == 600


def test_rules_table_prints_list_parameters(jd_rules):
    # reply_roles is a list ([agent]); the table must print it, not swallow it as markup.
    table, _ = jd_rules
    line = next(line for line in table.out.splitlines() if "JD-R30" in line)
    assert "reply_roles=[agent]" in line, line


def test_rules_and_explain_write_a_flag_as_the_ruleset_file_does(cli):
    """`rules --lang zh` printed `blank_titles=False`, Python's spelling; the file writes false."""
    table, page = cli.many(("rules", "-p", "jd", "-v", "--lang", "zh"), ("explain", "JD-P1", "--lang", "en"))
    assert table.code == page.code == 0, table.err + page.err
    assert "blank_titles=false" in table.out and not re.search(r"=(True|False)\b", table.out), table.out
    assert re.search(r"blank_titles = false\b", page.out) and "False" not in page.out, page.out


def test_explain_known_and_unknown_code(cli):
    known, unknown = cli.many(("explain", "PDD-R3"), ("explain", "NOPE-X9"))
    assert known.code == 0, known.err
    out = known.out
    assert out.startswith("PDD-R3")
    assert "What it checks" in out and "Why it matters" in out
    assert re.search(r"threshold\s*=\s*180\b", out)
    assert re.search(r"min_rate\s*=\s*0\.8\b", out)
    assert re.search(r"unit\s*=\s*buyer_day\b", out)
    assert unknown.code == 2
    assert unknown.out == ""
    assert len(unknown.err_lines()) == 1 and "NOPE-X9" in unknown.err


def test_explain_writes_a_rules_escalation_tiers_in_the_readers_language(cli):
    """KS-G1's tiers read `1: 情节轻微 (错误) 警告、强制学习; 2: …` in Chinese: ASCII colon,
    brackets and semicolons. Now 第 1 次：情节轻微（错误）…；第 2 次：…; English as before."""
    zh, en = cli.many(("explain", "KS-G1", "--lang", "zh"), ("explain", "KS-G1", "--lang", "en"))
    assert zh.code == en.code == 0, zh.err + en.err
    line = next(x for x in zh.out.splitlines() if "升级" in x)
    assert "第 1 次：情节轻微（错误）警告" in line and "；第 2 次：情节严重（错误，-2 分）" in line and "; " not in line, line
    assert "1: 情节轻微 (error) 警告" in en.out and "; 2: 情节严重 (error, points -2)" in en.out, en.out


def test_explain_of_a_rule_the_shops_ruleset_switched_off_says_so(cli, write):
    """`explain TB-P2 --ruleset mine.yaml` with TB-P2 `enabled: false` said 'unknown rule code',
    which reads as a typo of a code the supervisor had just written."""
    write("mine.yaml", "extends: taobao\nrules:\n  - code: TB-P2\n    enabled: false\n")
    off, typo = cli.many(("explain", "TB-P2", "--ruleset", "mine.yaml", "--lang", "zh"), ("explain", "TB-P9", "--ruleset", "mine.yaml"))
    assert off.code == 2 and off.err_lines() == ["cservice-audit：错误：TB-P2 在 mine.yaml 中已停用（enabled: false），本店审核不用它"], off.err
    assert typo.code == 2 and "unknown rule code 'TB-P9'" in typo.err and "TB-P2" not in typo.err.split("known:")[1], typo.err


def test_explain_of_a_rule_the_base_file_switched_off_names_the_base(cli, write, tmp_path):
    """A shop file extending a local base file (extends: base.yaml) whose TB-P2 is `enabled: false`:
    `explain TB-P2` said 'unknown rule code', as if the code were a typo; it names the base."""
    import yaml

    from cservice_audit.ruleset import shipped_dir

    base = yaml.safe_load((shipped_dir() / "taobao.yaml").read_text("utf-8"))
    next(rule for rule in base["rules"] if rule["code"] == "TB-P2")["enabled"] = False
    write("base.yaml", yaml.safe_dump(base, allow_unicode=True))
    write("shop.yaml", "extends: base.yaml\nrules:\n  - code: TB-R3\n    params: {min_rate: 0.85}\n")
    off, on = cli.many(("explain", "TB-P2", "--ruleset", "shop.yaml", "--lang", "zh"), ("explain", "TB-R3", "--ruleset", "shop.yaml", "--lang", "zh"))
    assert off.code == 2 and off.err_lines() == ["cservice-audit：错误：TB-P2 在 base.yaml 中已停用（enabled: false），本店审核不用它"], off.err
    assert on.code == 0 and "本规则集（改自 base.yaml）改了 min_rate" in on.out, on.err


def test_explain_gives_the_bases_severity_and_points_where_the_shop_changed_them(cli, write):
    """A changed parameter carried the base's value, a changed severity or points did not: the
    header read `级别 错误，每次 3 分` with nothing to say taobao's TB-P1 is a warning without points.
    Writing the base's own value (or the default) is no change."""
    write("mine.yaml", "extends: taobao\nrules:\n  - code: TB-P1\n    severity: error\n    points: 3\n  - code: TB-R3\n    severity: error\n    points: 0\n")
    write("off.yaml", "extends: pinduoduo\nrules:\n  - code: PDD-P1\n    points: 0\n")
    p1, r3, pdd = cli.many(
        ("explain", "TB-P1", "--ruleset", "mine.yaml", "--lang", "zh"), ("explain", "TB-R3", "--ruleset", "mine.yaml", "--lang", "en"),
        ("explain", "PDD-P1", "--ruleset", "off.yaml", "--lang", "en"),
    )
    assert all(r.code == 0 for r in (p1, r3, pdd)), [r.err for r in (p1, r3, pdd)]
    assert p1.out.splitlines()[2] == "检查 话术，级别 错误（本规则集改动，原为 警告），每次 3 分（本规则集改动，原为 0 分）", p1.out
    assert "改了 severity，points；" in p1.out, p1.out
    assert r3.out.splitlines()[2] == "check reply_rate, severity error", r3.out
    assert "this ruleset" not in r3.out, r3.out
    assert pdd.out.splitlines()[2] == "check phrases, severity error, points 0 each (changed here; was -30)", pdd.out


def test_explain_says_a_list_the_base_did_not_have_in_words(cli, write):
    """`lexicons_add` on a rule whose base lists no lexicon read `（本规则集改动，原为 （无））`,
    brackets in brackets; the Chinese list of changed keys was joined with an ASCII comma."""
    write("mine.yaml", "extends: taobao\nrules:\n  - code: TB-P1\n    severity: error\n    params: {lexicons_add: [abuse]}\n")
    zh, en = cli.many(("explain", "TB-P1", "--ruleset", "mine.yaml", "--lang", "zh"), ("explain", "TB-P1", "--ruleset", "mine.yaml", "--lang", "en"))
    assert zh.code == 0 and en.code == 0, (zh.err, en.err)
    assert "（本规则集改动，原来没有）" in zh.out and "原为 （无）" not in zh.out and "改了 severity，lexicons；" in zh.out, zh.out
    assert "(changed here; none before)" in en.out and "changed severity, lexicons;" in en.out, en.out


def test_explain_names_what_the_shops_ruleset_changed_beside_the_bases_confidence_note(cli, write):
    """The base's confidence note (最低80%是我们自定的) was shown over the shop's 85 % with nothing
    to say the number had changed; each changed parameter now says what it was, and a line says
    whose settings the note speaks of (unless the file wrote its own note)."""
    write("mine.yaml", "extends: taobao\nrules:\n  - code: TB-R3\n    params: {min_rate: 0.85}\n  - code: TB-P1\n    params: {phrases_add: [竞品家]}\n")
    write("own.yaml", "extends: taobao\nrules:\n  - code: TB-R3\n    severity: warning\n    confidence_note: 本店自定85%\n    params: {min_rate: 0.85}\n")
    zh, en, lists, own, shipped = cli.many(
        ("explain", "TB-R3", "--ruleset", "mine.yaml", "--lang", "zh"), ("explain", "TB-R3", "--ruleset", "mine.yaml", "--lang", "en"),
        ("explain", "TB-P1", "--ruleset", "mine.yaml", "--lang", "zh"), ("explain", "TB-R3", "--ruleset", "own.yaml", "--lang", "zh"),
        ("explain", "TB-R3", "--lang", "zh"),
    )
    assert all(r.code == 0 for r in (zh, en, lists, own, shipped)), [r.err for r in (zh, en, lists, own, shipped)]
    lines = zh.out.splitlines()
    note = next(i for i, line in enumerate(lines) if line.startswith("可信度"))
    assert "最低80%" in lines[note] and lines[note + 1] == "本规则集（改自 taobao）改了 min_rate；上面的可信度说明说的是 taobao 原有的设置", lines
    assert "min_rate = 0.85    # 比率低于此值时，规则未达标（本规则集改动，原为 0.8）" in zh.out, zh.out
    assert "min_rate = 0.85    # the rule fails below this rate (changed here; was 0.8)" in en.out, en.out
    assert "changed min_rate; the confidence note above is about taobao's own settings" in en.out, en.out
    assert "（本规则集改动，原有 230 项）" in lists.out and "threshold = 180    # 等待" not in lists.out, lists.out
    assert "改了 severity，min_rate\n" in own.out and "原有的设置" not in own.out and "可信度 推定：本店自定85%" in own.out, own.out
    assert "本规则集" not in shipped.out and "threshold = 180    # 等待时长 ≤ threshold 即为及时\n" in shipped.out, shipped.out


@pytest.fixture(scope="module")
def explained(cli_factory, tmp_path_factory):
    """Every rule of every shipped ruleset (as `rules -f json` lists them) with its `explain`
    page in English and in Chinese: {code: (rule, en, zh)}."""
    from cservice_audit.ruleset import shipped_platforms

    cli = cli_factory(tmp_path_factory.mktemp("explain"))
    listed = cli.many(*(("rules", "-p", p, "-f", "json") for p in shipped_platforms()))
    assert all(r.code == 0 for r in listed), [r.err for r in listed]
    rules = [rule for run in listed for rule in run.json()["rules"]]
    pages = cli.many(*({"args": ("explain", r["code"], "--lang", lang)} for r in rules for lang in ("en", "zh")))
    assert all(p.code == 0 for p in pages), [p.err for p in pages if p.code]
    return {r["code"]: (r, pages[2 * i].out, pages[2 * i + 1].out) for i, r in enumerate(rules)}


def test_explain_shows_an_example_finding_of_the_rule_itself(explained):
    """`explain TB-P5` ended with a PDD-P2 finding, `explain JD-R30` with PDD-R3's buyer-days
    and `explain JD-A1` with DY-A1's: each check's docstring example. The example is now the
    rule's own: its code, title and unit, in the page's language, and no other rule's code."""
    from cservice_audit.i18n import t

    codes = set(explained)
    for code, (rule, *pages) in explained.items():
        for lang, page in zip(("en", "zh"), pages, strict=True):
            heading = next(h for h in (t("explain.examples", lang), t("explain.example", lang)) if f"\n{h}\n" in page)
            examples = page.split(f"\n{heading}\n", 1)[1].split("\n\n", 1)[0].rstrip("\n").splitlines()
            lead = f"    {code} {t('severity.' + rule['severity'], lang)} "
            assert examples and all(e.startswith(lead) for e in examples), (code, lang, examples)
            others = {c for c in codes - {code} if re.search(rf"\b{re.escape(c)}\b", "\n".join(examples))}
            assert not others, (code, lang, examples)
            if rule["check"] != "data_quality":
                assert all(rule["title"] in e for e in examples), (code, lang, examples)
            if "unit" in rule["params"]:
                assert all(t(f"unit.{rule['params']['unit']}", lang) in e for e in examples), (code, lang, examples)
    assert "问题示例\n    TB-P5 错误 " in explained["TB-P5"][2] and "(7/11 conversations)" in explained["JD-R30"][1]


def test_explain_in_chinese_has_no_english_but_identifiers(explained):
    """`explain CODE --lang zh` read `检查 phrases，级别 error`, `` `points` per finding. ``, NFKC,
    spec §7 and data/lexicons/*.yaml to a supervisor, and then the ruleset's own English prose
    (`可信度 转述: off-platform contact…`, the "Lists in the shared lexicons…" paragraph, `来源
    seed article on …`). Now every word on the page is Chinese, the ruleset's description,
    confidence note, rule source and cited sources included (their `*_zh` texts), developer
    references stand in one last 详见 line, and the only runs of four or more Latin letters left
    are identifiers a supervisor matches against other screens, listed here: rule codes (PDD-N1's
    page names PDD-Q3), the rule's kebab-case name (the JSON's `code` and `name`), the platform's
    id (what `-p` takes), the names of the check's parameters (the keys of the ruleset file, each
    shown with its Chinese note) and the ids of the ruleset's sources (`[seed-000]`, what a
    rule's `sources` cite and `rules` lists)."""
    from cservice_audit.checks import CHECKS
    from cservice_audit.i18n import t
    from cservice_audit.rule_docs import find_rule

    for code, (listed, _, page) in explained.items():
        ruleset, rule = find_rule(code, None)
        assert page.rstrip("\n").splitlines()[-1].startswith(t("explain.see", "zh", refs="")), (code, page[-300:])
        text = page.rstrip("\n").rsplit("\n", 1)[0]
        for own in (rule.description_zh, rule.confidence_note_zh):
            assert own in text, (code, own)  # scanned with the rest, no longer cut out
        source_ids = {s["id"] for s in ruleset.sources if s.get("id")}
        allowed = {*explained, rule.name, ruleset.platform, *CHECKS[rule.check].PARAMS, *source_ids}
        words = {w for w in re.findall(r"[A-Za-z][A-Za-z0-9_\-]*", text) if len(re.sub(r"[^A-Za-z]", "", w)) >= 4}
        assert words - allowed == set(), (code, sorted(words - allowed))
        assert "http" not in text and t("severity." + rule.severity, "zh") in text.splitlines()[2], (code, text.splitlines()[2])
        confidence = text.splitlines()[3]  # 可信度 转述：… (an ASCII colon read `转述: `)
        assert confidence.startswith("可信度 ") and ": " not in confidence and (not rule.confidence_note_zh or "：" in confidence), (code, confidence)


def test_every_shipped_rule_and_source_has_its_chinese(explained):
    """The `*_zh` texts are not optional in the shipped rulesets: a rule, source or note added
    with English prose and no Chinese fails here (a rule source or source title already in
    Chinese needs none). The Chinese page shows each in place of the English; the English page
    is as it was."""
    from cservice_audit.i18n import t
    from cservice_audit.rule_docs import find_rule, source_line
    from cservice_audit.ruleset import load_platform, shipped_platforms

    latin = re.compile(r"[A-Za-z]{4,}")
    for platform in shipped_platforms():
        ruleset = load_platform(platform)
        assert len(ruleset.notes_zh) == len(ruleset.notes), platform
        for source in ruleset.sources:
            assert not source.get("note") or source.get("note_zh"), (platform, source["id"])
            assert not latin.search(source["title"]) or source.get("title_zh"), (platform, source["id"])
    assert len(explained) >= 33
    for code, (_, english, chinese) in explained.items():
        ruleset, rule = find_rule(code, None)
        assert rule.confidence_note and rule.confidence_note_zh, code
        assert not rule.description or rule.description_zh, code
        assert not latin.search(rule.source) or rule.source_zh, code
        assert chinese.splitlines()[3].endswith(f"：{rule.confidence_note_zh}"), (code, chinese.splitlines()[3])
        assert english.splitlines()[3].endswith(f": {rule.confidence_note}"), code
        if rule.description:
            assert f"\n\n{rule.description_zh}\n\n" in chinese and rule.description not in chinese, code
            assert f"\n\n{rule.description}\n\n" in english and rule.description_zh not in english, code
        if rule.source:
            assert t("explain.source", "zh", source=rule.prose("source", "zh")) in chinese.splitlines(), code
            assert t("explain.source", "en", source=rule.source) in english.splitlines(), code
        for source_id in rule.sources:
            cited = ruleset.source(source_id)
            assert source_line(cited, "zh") in chinese.splitlines() and source_line(cited, "en") in english.splitlines(), (code, source_id)
            if cited.get("note"):
                assert cited["note_zh"] in source_line(cited, "zh") and cited["note"] not in chinese, (code, source_id)
