"""End-to-end tests of reading exports (spec/metrics.md §1): compression, encodings,
timestamp layouts and zones, header/value mapping, and rows that cannot be normalized
(counted, reported with file and line, written out with --rejects, never lost)."""

from __future__ import annotations

import csv
import gzip
import io

import pytest

HEADER = "时间,买家,发送方,客服账号,内容\n"
# b1 answered by a1 after 60 s: clean under pinduoduo.
CLEAN_ROWS = (
    "2026-11-22 09:00:00,b1,买家,,在吗\n"
    "2026-11-22 09:01:00,b1,客服,a1,在的\n"
)


def _by_file(report: dict) -> dict[str, dict]:
    return {f["file"]: f for f in report["input"]["files"]}


def _n1_times(report: dict) -> dict[str, str]:
    """buyer -> ts of its PDD-N1 (never answered) finding."""
    return {f["buyer"]: f["ts"] for f in report["findings"] if f["code"] == "PDD-N1"}


# --------------------------------------------------------------------------- compression, encodings


def test_gzip_csv_and_gzip_jsonl(cli, write):
    write("a.csv.gz", gzip.compress((HEADER + CLEAN_ROWS).encode("utf-8")))
    jsonl = (
        '{"时间": "2026-11-22 10:00:00", "买家": "b2", "发送方": "买家", "内容": "发货了吗"}\n'
        '{"时间": "2026-11-22 10:00:40", "买家": "b2", "发送方": "客服", "客服账号": "a2", "内容": "发了"}\n'
    )
    write("b.jsonl.gz", gzip.compress(jsonl.encode("utf-8")))
    run = cli("audit", "a.csv.gz", "b.jsonl.gz", "-p", "pdd", "-f", "json")
    assert run.code == 0, run.err
    files = _by_file(run.json())
    assert files["a.csv.gz"]["format"] == "csv" and files["a.csv.gz"]["rows_used"] == 2
    assert files["b.jsonl.gz"]["format"] == "jsonl" and files["b.jsonl.gz"]["rows_used"] == 2
    agents = {m["agent"] for m in run.json()["metrics"] if m["rule"] == "PDD-R3" and m["scope"] == "agent"}
    assert agents == {"a1", "a2"}


GB_TEXT = (
    "时间,店铺,买家,发送方,客服账号,内容\n"
    "2026-11-22 09:00:00,旗舰店,张三,买家,,请问有货吗\n"
    "2026-11-22 09:05:00,旗舰店,张三,客服,小美,有的亲\n"
    "2026-11-22 10:00:00,旗舰店,李四,顾客,,发货了吗\n"
)


def test_bom_and_gb18030_with_and_without_encoding(cli, write):
    write("bom.csv", "\ufeff" + HEADER + CLEAN_ROWS)
    write("gb.csv", GB_TEXT, encoding="gb18030")
    bom, detected, explicit = cli.many(
        ("audit", "bom.csv", "-p", "pdd", "-f", "json"),
        ("audit", "gb.csv", "-p", "pdd", "-f", "json"),
        ("audit", "gb.csv", "-p", "pdd", "-f", "json", "--encoding", "gb18030"),
    )
    # The BOM must not hide the first header (时间 = ts).
    assert bom.code == 0, bom.err
    assert bom.json()["input"]["rows_used"] == 2
    assert bom.json()["input"]["first_ts"] == "2026-11-22T09:00:00+08:00"

    for run in (detected, explicit):
        assert run.code == 1, run.err  # 张三 waited 5 minutes, 李四 never answered
        report = run.json()
        assert report["input"]["files"][0]["encoding"] == "gb18030"
        assert report["input"]["rows_used"] == 3 and report["input"]["rows_rejected"] == 0
        assert {f["shop"] for f in report["findings"]} == {"旗舰店"}
        assert _n1_times(report) == {"李四": "2026-11-22T10:00:00+08:00"}
        assert {m["agent"] for m in report["metrics"] if m["scope"] == "agent"} >= {"小美"}
    assert _n1_times(detected.json()) == _n1_times(explicit.json())


# --------------------------------------------------------------------------- timestamps

# Only buyer messages, never answered: each is one PDD-N1 finding carrying its parsed ts.
TIMESTAMPS = (
    "时间,买家,发送方,内容\n"
    "2026-11-22 09:00:00,naive,买家,a\n"
    "2026/11/22 8:03:05,slash,买家,b\n"
    "1795312800,epoch_s,买家,c\n"  # 2026-11-22 10:00 +08:00
    "1795316400000,epoch_ms,买家,d\n"  # 2026-11-22 11:00 +08:00
    "2026-11-22T12:00:00+08:00,offset8,买家,e\n"
    "2026-11-22 05:00:00+00:00,utc_offset,买家,f\n"  # 13:00 +08:00
)


def test_an_export_cut_short_is_exit_2_naming_where_it_stops(cli, write):
    """A download or copy that stopped half-way (or an export still being written) ends inside
    its last record, with no line end. It was read as a row with empty columns, rejected as
    `missing role`, and the night passed as complete with half its chats. It stops the run,
    naming the line, on every road (UTF-8 on disk, GB18030, gzip, stdin); so does a file cut
    inside a character, which pointed to --encoding gb18030 and back. A whole last record
    without a line end, or a file whose every row leaves its trailing empty cells out, is read."""
    cut = HEADER + CLEAN_ROWS + "2026-11-22 09:05:00,b2"
    write("cut.csv", cut)
    write("cut-gbk.csv", cut.encode("gb18030"))
    write("cut.csv.gz", gzip.compress(cut.encode("utf-8")))
    write("char.csv", (HEADER + CLEAN_ROWS + "2026-11-22 09:05:00,b2,买家,,在吗").encode("utf-8")[:-1])
    runs = cli.many(
        ("audit", "cut.csv", "-p", "pdd", "-f", "json", "--no-history"),
        ("audit", "cut-gbk.csv", "-p", "pdd", "-f", "json", "--no-history"),
        ("audit", "cut.csv.gz", "-p", "pdd", "-f", "json", "--no-history"),
        {"args": ("audit", "-", "-p", "pdd", "-f", "json", "--no-history"), "stdin": cut.encode("utf-8")},
    )
    for name, run in zip(("cut.csv", "cut-gbk.csv", "cut.csv.gz", "<stdin>"), runs, strict=True):
        assert run.code == 2 and run.out == "", (name, run.out[:200])
        assert run.err_lines() == [
            f"cservice-audit: error: {name}: line 4: the file ends inside this record (2 fields where the header has 5, "
            "no line end after it): an export or download cut short? export it again and rerun"
        ], (name, run.err)
    # 吗 is three bytes; the file keeps two of them: the character starts at its length - 2.
    at = len((HEADER + CLEAN_ROWS + "2026-11-22 09:05:00,b2,买家,,在吗").encode("utf-8")) - 3
    char, piped = cli.many(
        ("audit", "char.csv", "-p", "pdd", "-f", "json", "--no-history", "--lang", "zh"),
        {"args": ("audit", "-", "-p", "pdd", "-f", "json", "--no-history", "--lang", "zh"),
         "stdin": (HEADER + CLEAN_ROWS + "2026-11-22 09:05:00,b2,买家,,在吗").encode("utf-8")[:-1]},
    )  # fmt: skip
    for name, run in (("char.csv", char), ("<stdin>", piped)):
        assert run.code == 2 and run.err_lines() == [
            f"cservice-audit：错误：{name}：文件在第 {at} 字节处的一个字符中间结束：导出或下载不完整？请重新导出后再审核"
        ], (name, run.err)
    # A message with a line break in the record above the cut, or in a whole last record.
    above = HEADER + '2026-11-22 09:00:00,b1,买家,,"在吗\n亲"\n2026-11-22 09:01:00,b1,客服,a1,在的\n2026-11-22 09:05:00,b2'
    write("above.csv", above)
    run = cli("audit", "above.csv", "-p", "pdd", "-f", "json", "--no-history")
    assert run.code == 2 and "line 5: the file ends inside this record (2 fields where the header has 5" in run.err, run.err
    write("open.csv", HEADER + CLEAN_ROWS + '2026-11-22 09:05:00,b2,买家,,"在吗\n还在')
    run = cli("audit", "open.csv", "-p", "pdd", "-f", "json", "--no-history")
    assert run.code == 2 and "line 5: the file ends inside a quoted field (no closing quote" in run.err, run.err
    # Over 64 KiB, read from its end: the tail starts inside a quoted message, or inside a
    # pasted text longer than 8 KiB; the cut is found all the same.
    pair = '2026-11-22 09:00:00,b1,买家,,"在吗\n"\n2026-11-22 09:00:30,b1,客服,a1,"好的,马上"\n'
    write("big-open.csv", HEADER + pair * 1000 + '2026-11-22 10:00:00,b9,买家,,"他说""')
    pasted = "2026-11-22 08:59:00,b1,买家,,x" + "很长的粘贴文字" * 1000 + "\n"
    write("big-cut.csv", HEADER + CLEAN_ROWS * 1000 + pasted + CLEAN_ROWS * 600 + "2026-11-22 09:05:00,b2")
    big_open, big_cut = cli.many(*(("audit", name, "-p", "pdd", "-f", "json", "--no-history") for name in ("big-open.csv", "big-cut.csv")))
    assert big_open.code == 2 and "line 3002: the file ends inside a quoted field" in big_open.err, big_open.err
    assert big_cut.code == 2 and "line 3203: the file ends inside this record (2 fields" in big_cut.err, big_cut.err
    write("whole.csv", HEADER + CLEAN_ROWS.rstrip("\n"))
    write("wrapped.csv", HEADER + CLEAN_ROWS + '2026-11-22 09:02:00,b1,客服,a1,"亲，在的\n请问"')
    write("short.csv", "时间,买家,发送方,客服账号,内容,备注\n2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:01:00,b1,客服,a1,在的")
    for name, rows in (("whole.csv", 2), ("wrapped.csv", 3), ("short.csv", 2)):
        run = cli("audit", name, "-p", "pdd", "-f", "json", "--no-history")
        assert run.code == 0 and run.json()["input"]["rows_used"] == rows, (name, run.err)


def test_timestamp_layouts_and_input_tz(cli, write):
    write("ts.csv", TIMESTAMPS)
    local, utc = cli.many(
        ("audit", "ts.csv", "-p", "pdd", "-f", "json"),
        ("audit", "ts.csv", "-p", "pdd", "-f", "json", "--input-tz", "UTC"),
    )
    r = local.json()
    assert r["input"]["rows_used"] == 6 and r["input"]["rows_rejected"] == 0
    assert r["input"]["first_ts"] == "2026-11-22T08:03:05+08:00"
    assert r["input"]["last_ts"] == "2026-11-22T13:00:00+08:00"
    assert _n1_times(r) == {
        "naive": "2026-11-22T09:00:00+08:00",
        "slash": "2026-11-22T08:03:05+08:00",
        "epoch_s": "2026-11-22T10:00:00+08:00",
        "epoch_ms": "2026-11-22T11:00:00+08:00",
        "offset8": "2026-11-22T12:00:00+08:00",
        "utc_offset": "2026-11-22T13:00:00+08:00",
    }
    # --input-tz UTC: naive times move 8 hours later; epochs and offsets do not move.
    r = utc.json()
    assert r["input"]["first_ts"] == "2026-11-22T10:00:00+08:00"
    assert r["input"]["last_ts"] == "2026-11-22T17:00:00+08:00"
    assert _n1_times(r) == {
        "naive": "2026-11-22T17:00:00+08:00",
        "slash": "2026-11-22T16:03:05+08:00",
        "epoch_s": "2026-11-22T10:00:00+08:00",
        "epoch_ms": "2026-11-22T11:00:00+08:00",
        "offset8": "2026-11-22T12:00:00+08:00",
        "utc_offset": "2026-11-22T13:00:00+08:00",
    }


# --------------------------------------------------------------------------- mapping


def test_a_mapping_with_date_like_values_is_read_as_text_not_a_crash(cli, write):
    """A mapping's values are spellings: `2026-02-30` (no such day) is a header name like any
    other, and a date-like value where the shape is wrong is the shape's one-line error. PyYAML
    once built a date from it and the run ended in an internal error (found by the fuzz)."""
    write("export.csv", "2026-02-30,买家,发送方,客服账号,内容\n2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:00:40,b1,客服,a1,在的\n")
    write("mapping.yaml", "columns:\n  ts: [2026-02-30]\n")
    write("list.yaml", "- \n  name: 2026-02-30\n")
    mapped, listed = cli.many(
        ("audit", "export.csv", "-p", "pdd", "-f", "json", "--mapping", "mapping.yaml", "--no-history"),
        ("audit", "export.csv", "-p", "pdd", "-f", "json", "--mapping", "list.yaml", "--no-history"),
    )
    assert mapped.code == 0, mapped.err
    assert mapped.json()["input"]["rows_used"] == 2
    assert listed.code == 2 and listed.err_lines() == [
        "cservice-audit: error: list.yaml: a mapping file is a YAML mapping with 'columns' and/or 'values'"
    ], listed.err


def test_mapping_file_adds_header_and_value_spellings(cli, write):
    write(
        "export.csv",
        "咨询发起时间,买家,发送方,客服账号,内容\n"
        "2026-11-22 09:00:00,b1,买家,,在吗\n"
        "2026-11-22 09:00:40,b1,售前小二,a1,在的\n",
    )
    write("mapping.yaml", "columns:\n  ts: [咨询发起时间]\nvalues:\n  role:\n    agent: [售前小二]\n")
    mapped, unmapped = cli.many(
        ("audit", "export.csv", "-p", "pdd", "-f", "json", "--mapping", "mapping.yaml"),
        ("audit", "export.csv", "-p", "pdd", "-f", "json"),
    )
    assert mapped.code == 0, mapped.err
    r = mapped.json()
    assert r["input"]["rows_used"] == 2 and r["input"]["rows_rejected"] == 0
    assert r["input"]["first_ts"] == "2026-11-22T09:00:00+08:00"
    r3 = [m for m in r["metrics"] if m["rule"] == "PDD-R3" and m["scope"] == "agent"]
    assert [(m["agent"], m["numerator"], m["denominator"], m["status"]) for m in r3] == [("a1", 1, 1, "pass")]

    # Without the mapping the time column is missing: exit 2, one line naming it and the spellings tried.
    assert unmapped.code == 2
    assert unmapped.out == ""
    lines = unmapped.err_lines()
    assert len(lines) == 1, unmapped.err
    assert "export.csv" in lines[0]
    assert "'ts'" in lines[0] or " ts " in lines[0] or "ts:" in lines[0]
    assert "时间" in lines[0] and "发送时间" in lines[0] and "timestamp" in lines[0]
    assert "--mapping" in lines[0]


# --------------------------------------------------------------------------- rejected and duplicate rows

# Physical lines: 1 header; 2-4 one record with a three-line quoted text; 5 reply;
# 6 exact duplicate of 5; 7 same message id as 5, other text; 8 bad timestamp;
# 9-10 one record with two lines and an unknown role; 11-12 no id, exact duplicates; 13 reply.
# 9 records: 4 used, 2 rejected, 3 duplicate.
DIRTY = (
    "时间,买家,发送方,客服账号,内容,消息ID\n"
    '2026-11-22 09:00:00,b1,买家,,"第一行\n第二行\n第三行",m1\n'
    "2026-11-22 09:01:00,b1,客服,a1,在的,m2\n"
    "2026-11-22 09:01:00,b1,客服,a1,在的,m2\n"
    "2026-11-22 09:01:00,b1,客服,a1,换了文字,m2\n"
    "2026-13-45 99:00:00,b2,买家,,坏时间,m3\n"
    '2026-11-22 09:05:00,b3,火星人,,"两行\n文字",m4\n'
    "2026-11-22 09:10:00,b4,买家,,再问,\n"
    "2026-11-22 09:10:00,b4,买家,,再问,\n"
    "2026-11-22 09:10:30,b4,客服,a1,答,\n"
)


JSONL_WITH_BAD_LINE = (
    '{"时间": "2026-11-22 09:00:00", "买家": "b1", "发送方": "买家", "内容": "在吗"}\n'
    '{"时间": "2026-11-22 09:00:30", "买家": "b1", "发送方": "客服", "客服账号": "a1", "内容": "在的"}\n'
    "this line is not json\n"
    "\n"
    '{"时间": "bad", "买家": "b2", "发送方": "买家", "内容": "?"}\n'
    '{"时间": "2026-11-22 09:10:00", "买家": "b3", "发送方": "买家", "内容": "hi"}\n'
    '{"时间": "2026-11-22 09:10:20", "买家": "b3", "发送方": "客服", "客服账号": "a1", "内容": "hello"}\n'
)
# A GB18030 file whose first 64 KiB are plain ASCII; the first Chinese text comes after.
_FILLER = "plain ascii text to fill the sniffed head"
LATE_GB = (
    "ts,buyer,role,agent,text\n"
    + "".join(f"2026-11-22 09:{i % 60:02d}:00,buyer{i},buyer,,{_FILLER}\n" for i in range(1500))
    + "2026-11-22 10:00:00,张三,buyer,,请问有货吗\n"
)
# Line 2 has an unquoted comma too many in its text.
RAGGED = HEADER + "2026-11-22 09:00:00,b1,买家,,在吗,还有,逗号\n" + "2026-11-22 09:00:30,b1,客服,a1,在的\n"


@pytest.fixture(scope="module")
def single_file_runs(cli_factory, tmp_path_factory):
    """One audit per odd input file, run concurrently: name -> (Run, directory)."""
    tmp = tmp_path_factory.mktemp("inputs")
    (tmp / "dirty.csv").write_text(DIRTY, "utf-8")
    (tmp / "chats.jsonl").write_text(JSONL_WITH_BAD_LINE, "utf-8")
    (tmp / "late.csv").write_bytes(LATE_GB.encode("gb18030"))
    (tmp / "ragged.csv").write_text(RAGGED, "utf-8")
    base = ("-p", "pdd", "-f", "json")
    commands = {
        "dirty": ("audit", "dirty.csv", *base, "--rejects", "dirty-rejects.csv"),
        "jsonl": ("audit", "chats.jsonl", *base, "--rejects", "jsonl-rejects.csv"),
        "late": ("audit", "late.csv", *base, "--select", "PDD-D1"),
        "ragged": ("audit", "ragged.csv", *base),
    }
    runs = cli_factory(tmp).many(*commands.values())
    return {name: (run, tmp) for name, run in zip(commands, runs, strict=True)}


def test_rejected_and_duplicate_rows_are_counted_located_and_written(single_file_runs):
    run, tmp = single_file_runs["dirty"]
    assert run.code == 0, run.err  # the only findings are PDD-D1 warnings
    report = run.json()
    inp = report["input"]
    assert inp["rows_read"] == 9, "every data record is read, rejected ones included"
    assert (inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (4, 2, 3)
    assert inp["rows_read"] == inp["rows_used"] + inp["rows_rejected"] + inp["rows_duplicate"]

    d1 = sorted(f["evidence"] for f in report["findings"] if f["code"] == "PDD-D1")
    assert d1 == ["dirty.csv:8", "dirty.csv:9"]
    assert {f["severity"] for f in report["findings"]} == {"warning"}
    messages = " ".join(f["message"] for f in report["findings"])
    assert "2026-13-45 99:00:00" in messages and "火星人" in messages

    assert "dirty.csv:8" in run.err and "2 row" in run.err

    rows = list(csv.DictReader(io.StringIO((tmp / "dirty-rejects.csv").read_text("utf-8"))))
    assert len(rows) == 2
    assert {"file", "line", "problem"} <= set(rows[0])
    assert [(r["file"], r["line"]) for r in rows] == [("dirty.csv", "8"), ("dirty.csv", "9")]
    assert "timestamp" in rows[0]["problem"] and "火星人" in rows[1]["problem"]
    # Written out whole: the multi-line text survives.
    assert rows[1]["text"] == "两行\n文字"
    assert rows[0]["buyer"] == "b2"

    # Duplicates are dropped before measuring: b1 and b4 each count once.
    r3_shop = next(m for m in report["metrics"] if m["rule"] == "PDD-R3" and m["scope"] == "shop")
    assert (r3_shop["numerator"], r3_shop["denominator"]) == (2, 2)


def test_rejected_row_line_numbers_in_gb18030_and_crlf(cli, write):
    """Line numbers stay right on the decoded-text road (GB18030) and with CRLF line ends."""
    gb = (
        "时间,买家,发送方,客服账号,内容\n"
        '2026-11-22 09:00:00,张三,买家,,"一\n二\n三"\n'
        "2026-11-22 09:01:00,张三,客服,小美,好的\n"
        "无效时间,李四,买家,,坏\n"
    )
    write("gb.csv", gb, encoding="gb18030")
    write("crlf.csv", gb.replace("\n", "\r\n"))
    from_gb, from_crlf = cli.many(
        ("audit", "gb.csv", "-p", "pdd", "-f", "json"),
        ("audit", "crlf.csv", "-p", "pdd", "-f", "json"),
    )
    for run, name in ((from_gb, "gb.csv"), (from_crlf, "crlf.csv")):
        assert run.code == 0, run.err
        report = run.json()
        assert report["input"]["rows_read"] == 3 and report["input"]["rows_rejected"] == 1
        assert [f["evidence"] for f in report["findings"] if f["code"] == "PDD-D1"] == [f"{name}:6"]
        assert f"{name}:6" in run.err


def test_jsonl_with_a_line_that_is_not_json(single_file_runs):
    run, tmp = single_file_runs["jsonl"]
    assert run.code == 0, run.err
    report = run.json()
    inp = report["input"]
    assert inp["rows_read"] == 6 and inp["rows_rejected"] == 2 and inp["rows_used"] == 4
    evidence = sorted(f["evidence"] for f in report["findings"] if f["code"] == "PDD-D1")
    assert evidence == ["chats.jsonl:3", "chats.jsonl:5"]
    assert "chats.jsonl:3" in run.err
    rows = list(csv.DictReader(io.StringIO((tmp / "jsonl-rejects.csv").read_text("utf-8"))))
    assert [(r["file"], r["line"]) for r in rows] == [("chats.jsonl", "3"), ("chats.jsonl", "5")]
    assert "JSON" in rows[0]["problem"]
    assert "timestamp" in rows[1]["problem"]


def test_gb18030_whose_first_64k_are_ascii(single_file_runs):
    """Encoding detection must not be fooled by a long ASCII start: either the file is read
    as GB18030, or the run stops with exit 2 and one line suggesting --encoding."""
    assert len(LATE_GB.encode("gb18030")) > 1 << 16
    run, _ = single_file_runs["late"]
    assert "Traceback" not in run.err, run.err[-600:]
    if run.code == 2:
        lines = run.err_lines()
        assert len(lines) == 1 and "late.csv" in lines[0] and "--encoding" in lines[0], run.err
        assert run.out == ""
    else:
        report = run.json()
        assert report["input"]["rows_used"] == 1501
        assert report["input"]["files"][0]["encoding"] == "gb18030"


def test_row_with_too_many_fields(single_file_runs):
    """A ragged row (unquoted comma in the text) is a row that cannot be normalized: it is
    rejected with its line (or, at worst, the run stops with one line), never a traceback."""
    run, _ = single_file_runs["ragged"]
    assert "Traceback" not in run.err, run.err[-600:]
    if run.code == 2:
        lines = run.err_lines()
        assert len(lines) == 1 and "ragged.csv" in lines[0], run.err
    else:
        report = run.json()
        assert report["input"]["rows_read"] == 2
        assert [f["evidence"] for f in report["findings"] if f["code"] == "PDD-D1"] == ["ragged.csv:2"]
